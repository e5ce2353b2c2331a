"""What realtime clients receive about incidents, and that events and alerts exist only if the change committed."""

import json

import pytest

from common.actors import Actor
from incidents import services
from incidents.models import AIEvent, AlertDelivery, Incident
from incidents.tests.factories import upload
from realtime import rooms
from realtime.models import OutboxEvent


def detect(device, beacon, **kwargs):
    return services.ai_detection_report(
        kind="violence", device=device, beacon_id=beacon.beacon_id, confidence_score=0.9, description="Fight",
        images=[upload()], **kwargs,
    )


def test_incident_created_goes_to_the_incidents_channel_with_what_the_dashboard_needs(device, beacon):
    incident = detect(device, beacon).incident

    event = OutboxEvent.objects.get(event="incident_created")
    assert event.rooms == [rooms.INCIDENTS_CHANNEL]
    assert event.payload == {
        "incident_id": str(incident.pk),
        "kind": "violence",
        "status": "CREATED",
        "priority": "Critical",
        "description": "Fight",
        "beacon": {"beacon_id": beacon.beacon_id, "name": "Library Entrance", "building": "Central Library",
                   "floor": "G", "latitude": 22.5726, "longitude": 88.3639},
        "first_signal_at": incident.first_signal_at.isoformat(),
        "last_signal_at": incident.last_signal_at.isoformat(),
        "signal_count": 1,
        "assigned_to": None,
        "action": "created",
        "by": "device:CAM-01",
        "timestamp": incident.created_at.isoformat(),
    }


def test_no_evidence_url_ever_goes_into_a_realtime_event(device, beacon, dispatcher):
    incident = detect(device, beacon).incident
    detect(device, beacon)
    services.incident_acknowledge(incident_id=incident.pk, actor=Actor(user=dispatcher))

    for event in OutboxEvent.objects.all():
        text = json.dumps(event.payload)
        assert "image" not in text and "http" not in text and "incidents/" not in text


def test_a_report_below_the_threshold_publishes_nothing(device, beacon):
    services.ai_detection_report(kind="scream", device=device, beacon_id=beacon.beacon_id, confidence_score=0.5,
                                 description="Faint")

    assert not OutboxEvent.objects.exists()


def test_if_queueing_alerts_fails_there_is_no_incident_no_event_and_no_evidence(
    device, beacon, settings, monkeypatch
):
    settings.ALERT_EMAIL_RECIPIENTS = ["control-room@example.org"]

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_queue_alerts", broken)

    with pytest.raises(RuntimeError):
        detect(device, beacon)

    assert not Incident.objects.exists() and not AIEvent.objects.exists()
    assert not OutboxEvent.objects.exists() and not AlertDelivery.objects.exists()
    assert not any(path.is_file() for path in settings.MEDIA_ROOT.rglob("*"))
