"""Each language renders on a phone, the switcher changes it, and nothing English is left on the page.

`UPDATE_SCREENSHOTS=1` writes the README's citizen screenshots (English and Hindi) into docs/.
"""

import os
import re
from pathlib import Path

import pytest
from django.utils.translation.trans_real import DjangoTranslation

from dashboard.tests.test_citizen_i18n import UNIVERSAL, script_messages, template_messages
from dashboard.views import CITIZEN_LANGUAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parents[2] / "docs"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "geolocation": {"latitude": 22.5726, "longitude": 88.3639, "accuracy": 12}, "permissions": ["geolocation"]}


def english_left(text: str) -> list[str]:
    """The page's English messages (placeholders as wildcards) still visible in `text`."""
    left = []
    for message in (template_messages() | script_messages()) - UNIVERSAL:
        pattern = re.escape(message).replace(re.escape("%(number)s"), r"\S+")
        if len(message) > 3 and re.search(pattern, text):
            left.append(message)
    return left


@pytest.mark.parametrize("language", [code for code, _ in CITIZEN_LANGUAGES])
def test_each_language_renders_on_a_phone_with_nothing_left_in_english(pages, language):
    phone = pages(f"/sos/?lang={language}", **PHONE)
    phone.wait_for_selector("body[data-ready=true]")
    assert phone.get_attribute("html", "lang") == language
    page_catalog = DjangoTranslation(language, domain="django")
    script_catalog = DjangoTranslation(language, domain="djangojs")
    assert phone.inner_text("#sos-hint") == page_catalog.gettext(
        "Press to alert the police. Your location is shared until help arrives or you cancel.")
    # A message written by the script, in the same language.
    phone.click("#sos-button")
    phone.wait_for_selector("main[data-state=active]")
    phone.wait_for_function("el => el.textContent !== ''", arg=phone.query_selector("#location-status"))
    status = phone.inner_text("#location-status")
    shared_prefix = script_catalog.gettext("Location shared at %(time)s.").split("%(time)s")[0]
    assert status == script_catalog.gettext("Sharing your location with the police.") or status.startswith(shared_prefix)
    if language != "en":
        assert english_left(phone.inner_text("body")) == []
        assert english_left(phone.evaluate("decodeURIComponent(document.getElementById('sms-112').href)")) == []


def test_the_switcher_changes_the_language_and_remembers_it(pages):
    phone = pages("/sos/", **PHONE, locale="en-US")
    phone.wait_for_selector("body[data-ready=true]")
    phone.select_option("#language", "ta")
    phone.wait_for_selector("html[lang=ta]")
    phone.goto("/sos/")
    phone.wait_for_selector("body[data-ready=true]")
    assert phone.get_attribute("html", "lang") == "ta"


def test_the_browsers_language_is_the_default(pages):
    phone = pages("/sos/", **PHONE, locale="bn-IN")
    phone.wait_for_selector("body[data-ready=true]")
    assert phone.get_attribute("html", "lang") == "bn"


def test_screenshots_of_the_citizen_page_in_two_languages(pages, tmp_path):
    out = DOCS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    for language in ("en", "hi"):
        phone = pages(f"/sos/?lang={language}", **PHONE)
        phone.wait_for_selector("body[data-ready=true]")
        phone.click("#pin-setup summary")
        phone.screenshot(path=str(out / f"citizen-sos-{language}.png"))
        assert (out / f"citizen-sos-{language}.png").stat().st_size > 10_000
