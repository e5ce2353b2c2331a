"""Every event is declared once (realtime/event_schema.py) and every publish call site matches it."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from cameras import services as camera_services
from common.actors import Actor
from incidents import services as incident_services
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from realtime import event_schema
from realtime.event_schema import EventSchemaError, validate
from realtime.events import publish
from realtime.models import OutboxEvent
from response.services import escalation_tick
from sos import services as sos_services
from sos.tests.conftest import raise_sos

REPO = Path(__file__).resolve().parents[2]
APPS = ("accounts", "sos", "incidents", "realtime", "common", "response", "contacts", "compat", "console", "privacy",
        "cameras")
SOS_UPDATED = {"sos_id": 1, "room_id": "r", "status": "acknowledged", "action": "acknowledged", "by": "x",
               "timestamp": "2026-12-01T10:00:00+00:00"}


def published_names_in_source() -> set[str]:
    names = set()
    for app in APPS:
        for path in (REPO / app).rglob("*.py"):
            if "tests" not in path.parts and "migrations" not in path.parts:
                # publish(event="...") and Event(event="...") for publish_many (alert rows use event= too).
                names |= set(re.findall(r'(?:publish|Event)\(\s*event="([a-z_]+)"', path.read_text()))
    return names


def test_every_event_name_published_in_the_code_is_declared():
    names = published_names_in_source()

    assert names, "the scan found no publish call at all"
    assert names - set(event_schema.EVENTS) == set()


def test_a_payload_with_a_missing_an_undeclared_or_a_wrongly_typed_field_is_refused():
    validate("sos_updated", SOS_UPDATED)
    validate("sos_updated", {**SOS_UPDATED, "note": "false alarm"})

    bad_payloads = [
        {k: v for k, v in SOS_UPDATED.items() if k != "by"},
        {**SOS_UPDATED, "phone": "+91 98450 00000"},
        {**SOS_UPDATED, "sos_id": "1"},
        {**SOS_UPDATED, "sos_id": True},
    ]
    for payload in bad_payloads:
        with pytest.raises(EventSchemaError):
            validate("sos_updated", payload)
    with pytest.raises(EventSchemaError, match="not declared"):
        validate("sos_deleted", {})


def test_the_tests_refuse_an_event_that_does_not_match_and_production_still_delivers_it(db, settings):
    assert settings.EVENT_SCHEMA_STRICT  # conftest turns it on for every test
    with pytest.raises(EventSchemaError), transaction.atomic():
        publish(event="sos_updated", rooms=["sos_channel"], payload={"sos_id": 1})
    assert not OutboxEvent.objects.exists()

    settings.EVENT_SCHEMA_STRICT = False
    with transaction.atomic():
        publish(event="sos_updated", rooms=["sos_channel"], payload={"sos_id": 1})
    assert OutboxEvent.objects.filter(event="sos_updated").count() == 1


def tiny_jpeg():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    data = io.BytesIO()
    Image.new("RGB", (8, 8)).save(data, "JPEG")
    return SimpleUploadedFile("frame.jpg", data.getvalue(), content_type="image/jpeg")


def test_driving_every_service_publishes_every_declared_event_and_each_matches(dispatcher, officer_a, device, beacon):
    dispatching = Actor(user=dispatcher)
    camera_services.camera_create(camera_id="cam-1", name="Gate", device=device, beacon=beacon, latitude=12.9716,
                                  longitude=77.5946, range_m=30)
    raised = raise_sos()
    camera_incident = incident_services.ai_detection_report(
        kind="scream", device=device, beacon_id=beacon.beacon_id, confidence_score=0.95, description="scream",
        details={"camera": "cam-1"})
    camera_services.camera_heartbeat(device=device, reports=[{"camera_id": "cam-1", "state": "down"}])
    camera_services.camera_sos_evidence_add(device=device, camera_id="cam-1", sos_id=raised.sos.pk,
                                            images=[tiny_jpeg()])
    assert camera_incident.incident.priority == "Critical"
    owner = Actor.from_credentials(sos_token=raised.token)
    sos_services.sos_acknowledge(sos_id=raised.sos.pk, actor=dispatching)
    sos_services.sos_assign(sos_id=raised.sos.pk, officer_name="Insp. Rao", unit_number="UNIT-A", actor=dispatching)
    sos_services.sos_location_add(sos_id=raised.sos.pk, latitude=12.98, longitude=77.6, actor=owner)
    sos_services.unit_location_update(unit_number="UNIT-A", latitude=12.9, longitude=77.5, actor=Actor(user=officer_a))
    sos_services.sos_resolve(sos_id=raised.sos.pk, actor=dispatching, note="Safe")
    cancelled = raise_sos()
    sos_services.sos_cancel(sos_id=cancelled.sos.pk, actor=Actor.from_credentials(sos_token=cancelled.token),
                            reason="False alarm")
    for _ in range(2):
        result = incident_services.ai_detection_report(
            kind="violence", device=device, beacon_id=beacon.beacon_id, confidence_score=0.95, description="fight")
    incident_id = result.incident.pk
    incident_services.incident_acknowledge(incident_id=incident_id, actor=dispatching)
    incident_services.incident_assign(incident_id=incident_id, officer_username=officer_a.username, actor=dispatching)
    incident_services.incident_start(incident_id=incident_id, actor=Actor(user=officer_a))
    incident_services.incident_resolve(incident_id=incident_id, actor=Actor(user=officer_a), resolution_note="Done")
    waiting = raise_sos()  # nobody acknowledges it, nor the next incident: both escalate
    incident_services.ai_detection_report(
        kind="violence", device=device, beacon_id=beacon.beacon_id, confidence_score=0.95, description="again")
    escalation_tick(now=timezone.now() + timedelta(hours=1))
    assert waiting.sos.escalations.exists()

    published = list(OutboxEvent.objects.order_by("id"))
    for event in published:
        validate(event.event, event.payload)
    assert {event.event for event in published} == set(event_schema.EVENTS)


def test_the_socketio_guide_lists_the_events_from_the_schema():
    guide = (REPO / "socketio_testing_guide.md").read_text()

    assert event_schema.markdown_table() in guide, (
        "Regenerate the table: python -c 'import django,os; os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\","
        "\"naarikavach.settings\"); django.setup(); from realtime import event_schema; print(event_schema.markdown_table())'"
    )
