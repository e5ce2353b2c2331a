"""Grouping: repeated confident reports of one thing at one place within the window make one incident."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from common.actors import Actor
from incidents import services
from incidents.models import Incident
from incidents.tests.factories import report
from realtime import rooms
from realtime.models import OutboxEvent

VIOLENCE = reverse("ai-violence-detected")
SCREAM = reverse("ai-scream-detected")


def age_incident(incident_id, seconds: float) -> None:
    Incident.objects.filter(pk=incident_id).update(last_signal_at=timezone.now() - timedelta(seconds=seconds))


def test_a_report_within_the_window_joins_the_open_incident_and_updates_its_counts(device_client, beacon):
    first = device_client.post(VIOLENCE, report(beacon.beacon_id, 0.95), format="json").json()
    age_incident(first["incident_id"], 240)

    second = device_client.post(VIOLENCE, report(beacon.beacon_id, 0.9), format="json")

    assert second.status_code == 200
    assert second.json()["incident_id"] == first["incident_id"]
    incident = Incident.objects.get()
    assert incident.signal_count == 2
    assert incident.last_signal_at > timezone.now() - timedelta(seconds=5)
    assert incident.first_signal_at < incident.last_signal_at
    assert [entry.action for entry in incident.audit_trail.all()] == ["created", "signal_added"]


def test_a_joined_report_publishes_an_update_but_no_second_incident_created(device_client, beacon):
    device_client.post(VIOLENCE, report(beacon.beacon_id), format="json")
    device_client.post(VIOLENCE, report(beacon.beacon_id), format="json")

    events = list(OutboxEvent.objects.order_by("id").values_list("event", "rooms", "payload"))
    assert [(event, room_list) for event, room_list, _ in events] == [
        ("incident_created", [rooms.INCIDENTS_CHANNEL]),
        ("incident_updated", [rooms.INCIDENTS_CHANNEL]),
    ]
    assert events[1][2]["action"] == "signal_added"
    assert events[1][2]["signal_count"] == 2


def test_a_report_after_the_window_opens_a_new_incident(device_client, beacon):
    first = device_client.post(VIOLENCE, report(beacon.beacon_id), format="json").json()
    age_incident(first["incident_id"], 301)

    second = device_client.post(VIOLENCE, report(beacon.beacon_id), format="json")

    assert second.status_code == 201
    assert second.json()["incident_id"] != first["incident_id"]
    assert Incident.objects.count() == 2


def test_the_window_comes_from_settings(device_client, beacon, settings):
    settings.INCIDENT_DEDUP_WINDOW_SECONDS = 10
    first = device_client.post(VIOLENCE, report(beacon.beacon_id), format="json").json()
    age_incident(first["incident_id"], 20)

    second = device_client.post(VIOLENCE, report(beacon.beacon_id), format="json")

    assert second.status_code == 201


def test_a_resolved_incident_takes_no_new_reports(device_client, beacon, dispatcher):
    first = device_client.post(VIOLENCE, report(beacon.beacon_id), format="json").json()
    services.incident_resolve(incident_id=first["incident_id"], actor=Actor(user=dispatcher), resolution_note="False alarm")

    second = device_client.post(VIOLENCE, report(beacon.beacon_id), format="json")

    assert second.status_code == 201
    assert second.json()["incident_id"] != first["incident_id"]


def test_an_incident_being_handled_still_takes_new_reports(device_client, beacon, dispatcher, officer_a):
    first = device_client.post(VIOLENCE, report(beacon.beacon_id), format="json").json()
    services.incident_assign(incident_id=first["incident_id"], officer_username=officer_a.username, actor=Actor(user=dispatcher))

    second = device_client.post(VIOLENCE, report(beacon.beacon_id), format="json")

    assert second.json()["incident_id"] == first["incident_id"]
    assert second.json()["incident_status"] == "ASSIGNED"


def test_a_scream_and_a_fight_at_one_beacon_are_separate_incidents(device_client, beacon):
    violence = device_client.post(VIOLENCE, report(beacon.beacon_id), format="json")
    scream = device_client.post(SCREAM, report(beacon.beacon_id), format="json")

    assert violence.status_code == scream.status_code == 201
    assert sorted(Incident.objects.values_list("kind", "priority")) == [("scream", "High"), ("violence", "Critical")]


def test_the_same_kind_at_two_beacons_makes_two_incidents(roaming_client, beacon, other_beacon):
    responses = [roaming_client.post(VIOLENCE, report(b.beacon_id), format="json") for b in (beacon, other_beacon)]

    assert [r.status_code for r in responses] == [201, 201]
    assert Incident.objects.count() == 2


def test_a_report_below_the_threshold_neither_joins_nor_keeps_an_incident_open(device_client, beacon):
    first = device_client.post(VIOLENCE, report(beacon.beacon_id), format="json").json()
    age_incident(first["incident_id"], 200)

    device_client.post(VIOLENCE, report(beacon.beacon_id, 0.3), format="json")

    incident = Incident.objects.get()
    assert incident.signal_count == 1
    assert incident.last_signal_at < timezone.now() - timedelta(seconds=150)
