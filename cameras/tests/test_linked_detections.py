"""Detections on a camera linked to an open SOS join it into one case; the worker's priority_hint is obeyed."""

from cameras import geometry
from cameras.tests.conftest import ORIGIN
from common.actors import Actor
from incidents import services as incident_services
from incidents.models import IncidentSignal
from realtime.models import OutboxEvent
from sos import services as sos_services
from sos.models import SOS


def raise_sos(north_m: float, accuracy_m: float = 5.0) -> SOS:
    lat, lng = geometry._offset(ORIGIN, east_m=0, north_m=north_m)
    sos, _ = sos_services.sos_create(name="Asha", sos_type=SOS.Type.EMERGENCY, latitude=lat, longitude=lng,
                                     accuracy_m=accuracy_m)
    return sos


def violence(device, beacon, camera="library-entrance", hint="high", score=0.95):
    return incident_services.ai_detection_report(
        kind="violence", device=device, beacon_id=beacon.beacon_id, confidence_score=score, description="fight",
        details={"camera": camera, "priority_hint": hint},
    )


def test_a_violence_report_on_a_linked_camera_joins_the_open_sos_and_becomes_critical(device, beacon,
                                                                                       entrance_camera):
    sos = raise_sos(north_m=20)
    result = violence(device, beacon, hint="high")

    incident = result.incident
    assert incident.priority == "Critical"
    link = IncidentSignal.objects.get(incident=incident, signal_type="SOS")
    assert link.sos == sos and "library-entrance" in link.description
    assert sos.audit_trail.filter(action="camera_incident").exists()
    event = OutboxEvent.objects.get(event="sos_camera_incident")
    assert event.payload["sos_id"] == sos.pk and event.payload["incident_id"] == str(incident.pk)
    raised = OutboxEvent.objects.get(event="incident_updated", payload__action="priority_raised")
    assert raised.payload["from_priority"] == "High" and raised.payload["to_priority"] == "Critical"
    # A second report joins the same incident without linking it twice.
    violence(device, beacon)
    assert IncidentSignal.objects.filter(incident=incident, signal_type="SOS").count() == 1


def test_a_report_on_an_unlinked_camera_or_after_the_sos_closed_touches_no_sos(device, beacon, dispatcher,
                                                                                entrance_camera, stairs_camera):
    sos = raise_sos(north_m=20)
    assert violence(device, beacon, camera="library-stairs").incident.priority == "High"
    sos_services.sos_resolve(sos_id=sos.pk, actor=Actor.for_user(dispatcher))
    later = incident_services.ai_detection_report(
        kind="scream", device=device, beacon_id=beacon.beacon_id, confidence_score=0.95, description="scream",
        details={"camera": "library-entrance"})
    assert later.incident.priority == "High"
    assert not IncidentSignal.objects.filter(signal_type="SOS").exists()


def test_the_workers_priority_hint_sets_the_incident_priority_and_may_only_raise_it(device, beacon):
    first = violence(device, beacon, camera="somewhere", hint="high")
    assert first.incident.priority == "High"
    violence(device, beacon, camera="somewhere", hint="CRITICAL")
    first.incident.refresh_from_db()
    assert first.incident.priority == "Critical"
    violence(device, beacon, camera="somewhere", hint="low")
    first.incident.refresh_from_db()
    assert first.incident.priority == "Critical"


def test_an_unknown_or_missing_priority_hint_keeps_the_kinds_priority(device, beacon):
    assert violence(device, beacon, hint="urgent!!").incident.priority == "Critical"
    scream = incident_services.ai_detection_report(
        kind="scream", device=device, beacon_id=beacon.beacon_id, confidence_score=0.95, description="scream")
    assert scream.incident.priority == "High"
