"""The console in Hindi: the page's own text and its script's messages (Django's JavaScript catalogue)."""

import pytest

from tests.browser.console_support import open_console, sos_raised_minutes_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_console_speaks_hindi_when_asked(pages, dispatcher):
    raised = sos_raised_minutes_ago(2, name="Asha")
    page = open_console(pages, dispatcher, locale="hi-IN", extra_http_headers={"Accept-Language": "hi-IN,hi;q=0.9"})

    assert page.get_attribute("html", "lang") == "hi"
    assert page.inner_text("#queue-heading").startswith("कतार")
    assert page.inner_text("#connection") == "लाइव"  # from the script, through the catalogue
    assert "इस स्थिति में" in page.inner_text(f"#queue li[data-key='sos:{raised.sos.pk}'] .in-status")
    page.click(f"#queue li[data-key='sos:{raised.sos.pk}']")
    page.wait_for_selector("#detail [data-action=resolve]:has-text('हल करें…')")
    assert "ने भेजा" in page.inner_text("#detail ol.timeline")  # "Raised by the citizen"


def test_the_console_stays_in_english_by_default(pages, dispatcher):
    page = open_console(pages, dispatcher)
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("#connection") == "Live"
