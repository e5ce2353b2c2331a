"""Crafted input gets a clear 4xx and changes nothing: deep JSON, NUL characters, NaN, OPTIONS, a bad Host."""

import json
import logging

import pytest
from django.test import Client

from incidents.models import AIEvent
from incidents.tests.fixtures import (  # noqa: F401
    _private_evidence_dir,
    beacon,
    device,
    device_client,
)
from sos.models import SOS

pytestmark = pytest.mark.django_db

VALID_SOS = {"name": "Asha", "sos_type": 0, "initial_latitude": 12.9716, "initial_longitude": 77.5946}


def _report(**extra):
    return {"beacon_id": "ab907856-3412-3412-3412-341278563412", "confidence_score": 0.9,
            "description": "Fight", **extra}


def test_json_nested_far_too_deep_is_refused_as_400(anon):
    body = "[" * 100_000 + "]" * 100_000
    response = anon.generic("POST", "/api/create-sos/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert SOS.objects.count() == 0


def test_json_nested_a_little_too_deep_is_refused_as_400(anon):
    nested = {"x": 1}
    for _ in range(40):
        nested = {"x": nested}
    response = anon.post("/api/create-sos/", {**VALID_SOS, "extra": nested})
    assert response.status_code == 400
    assert "nested deeper" in response.json()["error"]


def test_a_nul_character_in_json_text_is_refused_as_400(anon):
    response = anon.post("/api/create-sos/", {**VALID_SOS, "name": "As\x00ha"})
    assert response.status_code == 400
    assert SOS.objects.count() == 0


@pytest.mark.parametrize("path", ["/api/units/X%00/location/", "/api/sos/?status=%00", "/auth/users/me%00/"])
def test_a_nul_character_in_the_url_is_refused_as_400(client_for, dispatcher, path):
    response = client_for(dispatcher).post(path, {"latitude": 1, "longitude": 1}) if "units" in path \
        else client_for(dispatcher).get(path)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("details", ['{"score": NaN}', '{"score": Infinity}', '{"note": "a\\u0000b"}'])
def test_device_details_the_database_cannot_hold_are_refused_as_400(device_client, details):
    # As a multipart field (a string holding JSON) and as a JSON body.
    form = device_client.post("/api/ai/violence-detected/", _report(details=details), format="multipart")
    assert form.status_code == 400, form.content
    body = '{"beacon_id": "ab907856-3412-3412-3412-341278563412", "confidence_score": 0.9, ' \
           f'"description": "Fight", "details": {details}}}'
    raw = device_client.generic("POST", "/api/ai/violence-detected/", body, content_type="application/json")
    assert raw.status_code == 400, raw.content
    assert AIEvent.objects.count() == 0


def test_a_nul_character_in_a_form_field_is_refused_as_400(device_client):
    response = device_client.post("/api/ai/violence-detected/", _report(description="Fi\x00ght"), format="multipart")
    assert response.status_code == 400
    assert AIEvent.objects.count() == 0


@pytest.mark.parametrize("path", ["/auth/users/me/", "/auth/token/login/", "/auth/token/logout/", "/auth/users/",
                                  "/api/create-sos/", "/api/sos/", "/api/incidents/"])
def test_options_answers_without_a_server_error(client_for, citizen, path):
    for client in (client_for(None), client_for(citizen)):
        assert client.options(path).status_code in {200, 401, 403}


def test_a_bad_host_header_answers_json_400_and_logs_one_line(settings, caplog):
    settings.ALLOWED_HOSTS = ["api.example.org"]
    with caplog.at_level(logging.INFO, logger="django.security"):
        response = Client().get("/api/sos/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["code"] == "bad_request"
    # Formatted as the deployment's configured handler formats them.
    handler = logging.getLogger("django.security").handlers[0]
    lines = [handler.format(record) for record in caplog.records if record.name.startswith("django.security")]
    assert len(lines) == 1 and "\n" not in lines[0] and "evil.example.com" in lines[0]


def test_an_id_beyond_64_bits_in_a_url_is_a_clear_400_not_a_500(client_for, dispatcher):
    response = client_for(dispatcher).post("/api/sos/18231152292013043712/cameras/unlink/",
                                           {"camera_id": "cam-1"}, format="json")
    # SQLite cannot hold the number (400); PostgreSQL looks it up and finds nothing (404). Never a 500.
    assert response.status_code in (400, 404)
    assert response.json()["error"]


def test_control_characters_from_a_device_never_break_the_atom_feed_or_cap(device_client, beacon, dispatcher):
    from xml.etree import ElementTree as ET

    from common.cap import cap_problems
    from incidents.models import Incident
    from naarikavach.testing import client_for

    report = {**_report(beacon_id=beacon.beacon_id), "description": "Fight\x07 at\x1b[2J the gate\x00"[:-1]}
    assert device_client.post("/api/ai/violence-detected/", report).status_code == 201
    incident = Incident.objects.get()
    assert "\x07" in incident.description  # stored as sent: only the XML views leave it out
    responder = client_for(dispatcher)
    feed = responder.get("/api/feeds/open-alerts.atom")
    assert feed.status_code == 200
    assert "Fight at[2J the gate" in ET.fromstring(feed.content).findtext(
        "{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}summary")
    cap = responder.get(f"/api/incidents/{incident.pk}/cap.xml")
    assert cap.status_code == 200 and cap_problems(cap.content) == []
    ET.fromstring(cap.content)  # well-formed
