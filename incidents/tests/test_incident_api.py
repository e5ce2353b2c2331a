"""Responders list and open incidents and move them CREATED → ACKNOWLEDGED → ASSIGNED → IN_PROGRESS → RESOLVED."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Incident
from incidents.tests.factories import upload
from incidents.tests.fixtures import device_client_for
from naarikavach.testing import client_for
from realtime import rooms
from realtime.models import OutboxEvent

LIST = reverse("incident-list")


def detect(device, beacon, *, kind="violence", confidence=0.95, images=()) -> Incident:
    result = services.ai_detection_report(
        kind=kind, device=device, beacon_id=beacon.beacon_id, confidence_score=confidence,
        description=f"{kind} detected", images=list(images),
    )
    return result.incident


@pytest.fixture
def incident(device, beacon):
    return detect(device, beacon, images=[upload()])


def action_url(incident, action):
    return reverse(f"incident-{action}", args=[incident.pk])


# Who may look -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["officer_a", "dispatcher", "admin_user"])
def test_officers_dispatchers_and_admins_see_the_incident_list(request, incident, persona):
    response = client_for(request.getfixturevalue(persona)).get(LIST)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["incident_id"] == str(incident.pk)
    assert row["beacon"]["name"] == "Library Entrance"
    assert (row["kind"], row["status"], row["priority"], row["signal_count"]) == ("violence", "CREATED", "Critical", 1)


@pytest.mark.parametrize("url_name", ["incident-list", "incident-detail", "ai-event-list"])
def test_citizens_and_devices_are_refused_and_anonymous_callers_must_sign_in(citizen, device, incident, url_name):
    url = reverse(url_name, args=[incident.pk]) if url_name == "incident-detail" else reverse(url_name)

    assert client_for(citizen).get(url).status_code == 403
    assert device_client_for(device.raw_key).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 401


def test_citizens_cannot_act_on_an_incident(citizen, device, incident):
    for action in ("acknowledge", "start"):
        assert client_for(citizen).post(action_url(incident, action)).status_code == 403
    assert device_client_for(device.raw_key).post(action_url(incident, "acknowledge")).status_code == 403
    assert Incident.objects.get().status == "CREATED"


# Lists and filters ------------------------------------------------------------------------------


@pytest.fixture
def three_incidents(device, roaming_device, beacon, other_beacon):
    violence = detect(device, beacon)
    scream = detect(device, beacon, kind="scream")
    elsewhere = detect(roaming_device, other_beacon)
    Incident.objects.filter(pk=elsewhere.pk).update(last_signal_at=timezone.now() - timedelta(hours=2))
    return violence, scream, elsewhere


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["violence", "scream", "elsewhere"]),
        ("?priority=critical", ["violence", "elsewhere"]),
        ("?priority=High,Low", ["scream"]),
        ("?kind=scream", ["scream"]),
        ("?beacon=safe:uuid:402:402", ["elsewhere"]),
        ("?status=CREATED", ["violence", "scream", "elsewhere"]),
        ("?status=resolved", []),
    ],
)
def test_the_list_filters_by_status_priority_kind_and_beacon(dispatcher, three_incidents, query, expected):
    names = dict(zip([str(i.pk) for i in three_incidents], ["violence", "scream", "elsewhere"]))

    response = client_for(dispatcher).get(LIST + query)

    assert response.status_code == 200
    assert sorted(names[row["incident_id"]] for row in response.json()["results"]) == sorted(expected)


def test_since_keeps_incidents_with_a_signal_at_or_after_that_time(dispatcher, three_incidents):
    since = (timezone.now() - timedelta(hours=1)).isoformat()

    response = client_for(dispatcher).get(LIST, {"since": since})

    assert response.json()["count"] == 2


@pytest.mark.parametrize("query", ["status=OPENED", "priority=urgent", "kind=fire", "since=yesterday"])
def test_a_bad_filter_value_is_a_400(dispatcher, query):
    response = client_for(dispatcher).get(f"{LIST}?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_the_list_is_paginated_newest_activity_first(dispatcher, three_incidents):
    response = client_for(dispatcher).get(LIST, {"page_size": 2})

    body = response.json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert body["results"][0]["incident_id"] == str(three_incidents[1].pk)


def test_the_detail_shows_signals_images_and_timeline(officer_a, device, beacon, incident):
    detect(device, beacon, confidence=0.81)

    response = client_for(officer_a).get(reverse("incident-detail", args=[incident.pk]))

    assert response.status_code == 200
    body = response.json()
    assert [s["confidence_score"] for s in body["signals"]] == [0.95, 0.81]
    assert body["signals"][0]["device_id"] == "CAM-01"
    [image] = body["images"]
    assert image["image"] == "http://testserver" + reverse("incident-image-download", args=[image["id"]])
    assert [(t["action"], t["by"]) for t in body["timeline"]] == [
        ("created", "device:CAM-01"), ("signal_added", "device:CAM-01"),
    ]


def test_an_unknown_incident_is_404(dispatcher):
    response = client_for(dispatcher).get(reverse("incident-detail", args=["5d0b1f0e-0000-4000-8000-000000000000"]))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_reports_below_the_threshold_are_listed_with_their_images_for_review(dispatcher, device, beacon):
    detect(device, beacon, confidence=0.4, images=[upload()])

    response = client_for(dispatcher).get(reverse("ai-event-list"), {"outcome": "logged_only"})

    [event] = response.json()["results"]
    assert (event["confidence_score"], event["incident_id"], event["threshold"]) == (0.4, None, 0.75)
    assert len(event["images"]) == 1


# The workflow -----------------------------------------------------------------------------------


def test_an_incident_goes_from_created_to_resolved(dispatcher, officer_a, incident):
    dispatch = client_for(dispatcher)

    acknowledged = dispatch.post(action_url(incident, "acknowledge"), {"note": "On it"})
    assigned = dispatch.post(action_url(incident, "assign"), {"officer": "officer_a"})
    started = client_for(officer_a).post(action_url(incident, "start"))
    resolved = client_for(officer_a).post(action_url(incident, "resolve"), {"resolution_note": "Students separated"})

    assert [r.status_code for r in (acknowledged, assigned, started, resolved)] == [200, 200, 200, 200]
    assert [r.json()["incident"]["status"] for r in (acknowledged, assigned, started, resolved)] == [
        "ACKNOWLEDGED", "ASSIGNED", "IN_PROGRESS", "RESOLVED",
    ]
    incident.refresh_from_db()
    assert incident.assigned_to == officer_a
    assert incident.resolution_note == "Students separated"
    assert incident.acknowledged_at and incident.assigned_at and incident.resolved_at
    assert [(e.action, e.actor_label, e.from_status, e.to_status) for e in incident.audit_trail.all()] == [
        ("created", "device:CAM-01", "", "CREATED"),
        ("acknowledged", "dispatcher:dispatch", "CREATED", "ACKNOWLEDGED"),
        ("assigned", "dispatcher:dispatch", "ACKNOWLEDGED", "ASSIGNED"),
        ("started", "officer:officer_a", "ASSIGNED", "IN_PROGRESS"),
        ("resolved", "officer:officer_a", "IN_PROGRESS", "RESOLVED"),
    ]


def test_each_status_change_publishes_incident_updated_to_the_incidents_channel(dispatcher, incident):
    client_for(dispatcher).post(action_url(incident, "acknowledge"))

    event = OutboxEvent.objects.filter(event="incident_updated").get()
    assert event.rooms == [rooms.INCIDENTS_CHANNEL]
    assert event.payload["incident_id"] == str(incident.pk)
    assert (event.payload["action"], event.payload["by"], event.payload["status"]) == (
        "acknowledged", "dispatcher:dispatch", "ACKNOWLEDGED",
    )


def test_an_incident_can_be_assigned_straight_away_and_handed_over_while_in_progress(
    dispatcher, officer_a, officer_b, incident
):
    dispatch = client_for(dispatcher)
    dispatch.post(action_url(incident, "assign"), {"officer": "officer_a"})
    client_for(officer_a).post(action_url(incident, "start"))

    handover = dispatch.post(action_url(incident, "assign"), {"officer": "officer_b", "note": "Shift change"})

    assert handover.status_code == 200
    assert handover.json()["incident"]["status"] == "IN_PROGRESS"
    assert handover.json()["incident"]["assigned_to"] == "officer_b"


@pytest.mark.parametrize("officer", ["nobody", "dispatch", "asha"])
def test_only_an_active_officer_can_be_assigned(dispatcher, citizen, incident, officer):
    response = client_for(dispatcher).post(action_url(incident, "assign"), {"officer": officer})

    assert response.status_code == 400
    assert "officer" in response.json()["fields"]
    assert Incident.objects.get().status == "CREATED"


def test_acknowledging_twice_is_a_conflict(dispatcher, incident):
    client_for(dispatcher).post(action_url(incident, "acknowledge"))

    again = client_for(dispatcher).post(action_url(incident, "acknowledge"))

    assert again.status_code == 409
    assert again.json()["code"] == "already_acknowledged"


def test_an_incident_cannot_start_before_it_is_assigned(officer_a, incident):
    response = client_for(officer_a).post(action_url(incident, "start"))

    assert response.status_code == 409
    assert Incident.objects.get().status == "CREATED"


def test_resolving_needs_a_note(dispatcher, incident):
    response = client_for(dispatcher).post(action_url(incident, "resolve"), {"resolution_note": "  "})

    assert response.status_code == 400
    assert "resolution_note" in response.json()["fields"]
    assert Incident.objects.get().status == "CREATED"


def test_a_resolved_incident_can_no_longer_change(dispatcher, officer_a, incident):
    client_for(dispatcher).post(action_url(incident, "resolve"), {"resolution_note": "Handled"})

    attempts = [("acknowledge", {}), ("assign", {"officer": "officer_a"}), ("resolve", {"resolution_note": "x"})]
    for action, data in attempts:
        response = client_for(dispatcher).post(action_url(incident, action), data)
        assert response.status_code == 409, action
        assert response.json()["code"] == "incident_closed"


def test_a_since_with_an_impossible_time_zone_offset_is_a_clear_400(dispatcher):
    from naarikavach.testing import client_for

    response = client_for(dispatcher).get("/api/incidents/", {"since": "0128-03-15 14:12:22-16:24"})
    assert response.status_code == 400 and "since" in response.json()["fields"]
