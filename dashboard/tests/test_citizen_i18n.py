"""The citizen page speaks English, Hindi, Bengali, Tamil, Telugu, Kannada and Marathi; any untranslated message fails."""

import json
import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation.trans_real import DjangoTranslation

from dashboard.views import CITIZEN_LANGUAGES

DASHBOARD = Path(__file__).resolve().parents[1]
TEMPLATE = DASHBOARD / "templates" / "dashboard" / "citizen_sos.html"
SCRIPT = DASHBOARD / "static" / "dashboard" / "citizen.js"
LANGUAGES = [code for code, _ in CITIZEN_LANGUAGES if code != "en"]
# The same in every language by design.
UNIVERSAL = {"SOS"}


def template_messages(template: Path = TEMPLATE) -> set[str]:
    text = template.read_text()
    messages = set(re.findall(r'{% translate "((?:[^"\\]|\\.)*)" %}', text))
    messages |= set(re.findall(r"{% translate '((?:[^'\\]|\\.)*)' %}", text))
    for options, body in re.findall(r"{% blocktranslate([^%]*)%}(.*?){% endblocktranslate %}", text, re.S):
        if "trimmed" in options.split():
            body = " ".join(body.split())
        messages.add(re.sub(r"{{ (\w+) }}", r"%(\1)s", body))
    return messages


def script_messages(script: Path = SCRIPT) -> set[str]:
    return {m.encode().decode("unicode_escape").encode("latin-1").decode()
            for m in re.findall(r'gettext\("((?:[^"\\]|\\.)*)"\)', script.read_text())}


def test_the_extraction_finds_the_pages_messages():
    # If these fail, the regular expressions above no longer see the messages, and the tests below prove nothing.
    assert "I'm safe: cancel SOS" in template_messages() and "Call %(number)s" in template_messages()
    assert "Help is on the way." in script_messages() and len(script_messages()) > 20


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_of_the_page_is_translated(language):
    catalog = DjangoTranslation(language, domain="django")
    missing = [m for m in sorted(template_messages() - UNIVERSAL) if catalog.gettext(m) == m]
    assert not missing, f"{language}: untranslated in the page: {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_of_the_script_is_translated(language):
    catalog = DjangoTranslation(language, domain="djangojs")
    missing = [m for m in sorted(script_messages() - UNIVERSAL) if catalog.gettext(m) == m]
    assert not missing, f"{language}: untranslated in citizen.js: {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language):
    for domain, messages in (("django", template_messages()), ("djangojs", script_messages())):
        catalog = DjangoTranslation(language, domain=domain)
        for message in messages:
            assert set(re.findall(r"%\(\w+\)s", catalog.gettext(message))) == set(re.findall(r"%\(\w+\)s", message)), message


@pytest.mark.django_db
@pytest.mark.parametrize(("asked", "expected"), [
    ({"HTTP_ACCEPT_LANGUAGE": "bn-IN,bn;q=0.9,en;q=0.5"}, "bn"),
    ({"HTTP_ACCEPT_LANGUAGE": "fr-FR,ta;q=0.8"}, "ta"),
    ({"HTTP_ACCEPT_LANGUAGE": "fr-FR"}, "en"),
    ({"QUERY_STRING": "lang=kn", "HTTP_ACCEPT_LANGUAGE": "hi"}, "kn"),
])
def test_the_language_is_the_choice_then_the_browsers(client, asked, expected):
    response = client.get("/sos/", **asked)
    assert response["Content-Language"] == expected
    assert f'<html lang="{expected}">' in response.content.decode()


@pytest.mark.django_db
def test_the_switchers_cookie_is_remembered(client):
    client.cookies["nk_lang"] = "mr"
    page = client.get("/sos/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    with translation.override("mr"):
        assert translation.gettext("I'm safe: cancel SOS") in page
    assert "I&#x27;m safe: cancel SOS" not in page


@pytest.mark.django_db
def test_the_script_catalogue_follows_the_language(client):
    catalogue = client.get("/sos/jsi18n/?lang=te").content.decode()
    # The catalogue is JavaScript with JSON-escaped strings.
    assert json.dumps(DjangoTranslation("te", domain="djangojs").gettext("Help is on the way."))[1:-1] in catalogue
