"""What the API tells a citizen's phone comes in her language; every such message is translated."""

import re
from pathlib import Path

import pytest
from django.utils.translation.trans_real import DjangoTranslation

from common.languages import CITIZEN_LANGUAGES
from naarikavach.testing import client_for

pytestmark = pytest.mark.django_db
SOS_APP = Path(__file__).resolve().parents[1]
VALID_SOS = {"name": "Asha", "sos_type": 0, "initial_latitude": 12.9716, "initial_longitude": 77.5946}


def api_messages() -> set[str]:
    messages = set()
    for source in SOS_APP.glob("*.py"):
        for call in re.findall(r'gettext\(((?:\s*"(?:[^"\\]|\\.)*")+)\s*\)', source.read_text()):
            messages.add("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', call)))
    return messages


def test_the_extraction_finds_the_citizen_facing_messages():
    assert {"Wrong PIN.", "Only the person who raised this SOS may cancel it."} <= api_messages()
    assert any(m.startswith("Too many wrong PINs") and m.endswith("you are safe.") for m in api_messages())


@pytest.mark.parametrize("language", [code for code, _ in CITIZEN_LANGUAGES if code != "en"])
def test_every_citizen_facing_api_message_is_translated(language):
    catalog = DjangoTranslation(language, domain="django")
    assert [m for m in sorted(api_messages()) if catalog.gettext(m) == m] == []


def test_a_wrong_pin_is_answered_in_her_language(anon):
    body = anon.post("/api/create-sos/", {**VALID_SOS, "cancel_pin": "1234"}).json()
    phone = client_for(None, sos_token=body["access_token"])
    answer = phone.post(f"/api/cancel-sos/{body['sos_id']}/", {"pin": "0000"}, HTTP_ACCEPT_LANGUAGE="hi-IN,hi;q=0.9")
    assert answer.status_code == 400
    assert answer.json()["error"] == DjangoTranslation("hi", domain="django").gettext("Wrong PIN.") != "Wrong PIN."
    assert answer.json()["code"] == "wrong_pin"  # codes stay the same in every language
    english = phone.post(f"/api/cancel-sos/{body['sos_id']}/", {"pin": "0000"})
    assert english.json()["error"] == "Wrong PIN."


def test_the_flood_ceiling_is_answered_in_her_language(anon, settings):
    settings.SOS_FLOOD_CEILING = 0
    refused = anon.post("/api/create-sos/?lang=ta", VALID_SOS)
    assert refused.status_code == 429
    assert "112" in refused.json()["error"] and "SMS" in refused.json()["error"]
    assert refused.json()["error"] != refused.json()["error"].encode("ascii", "ignore").decode()
