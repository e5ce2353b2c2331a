"""The console's snapshot: everything open in triage order, bounded trails, a fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.actors import Actor
from incidents import services as incident_services
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from naarikavach.testing import client_for
from sos import services
from sos.models import SOS
from sos.tests.conftest import raise_sos

pytestmark = pytest.mark.django_db


def age(raised, minutes):
    SOS.objects.filter(pk=raised.sos.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


def test_the_queue_puts_unacknowledged_alerts_first_then_the_longest_waiting(dispatcher, device, beacon):
    control = Actor(user=dispatcher)
    old_acknowledged, old_waiting, new_waiting, closed = raise_sos(), raise_sos(), raise_sos(), raise_sos()
    age(old_acknowledged, 30)
    age(old_waiting, 20)
    age(new_waiting, 1)
    services.sos_acknowledge(sos_id=old_acknowledged.sos.pk, actor=control)
    services.sos_resolve(sos_id=closed.sos.pk, actor=control)
    incident = incident_services.ai_detection_report(
        kind="violence", device=device, beacon_id=beacon.beacon_id, confidence_score=0.95, description="fight",
    ).incident

    body = client_for(dispatcher).get("/api/console/queue/").json()

    order = [(item["kind"], (item["sos"] or {}).get("id") or item["incident"]["id"]) for item in body["items"]]
    assert order == [("sos", old_waiting.sos.pk), ("sos", new_waiting.sos.pk), ("incident", str(incident.pk)),
                     ("sos", old_acknowledged.sos.pk)]
    assert [item["needs_acknowledgement"] for item in body["items"]] == [True, True, True, False]


def test_each_sos_comes_with_its_newest_points_oldest_first(dispatcher):
    raised = raise_sos(latitude=10.0)
    owner = Actor.from_credentials(sos_token=raised.token)
    start = timezone.now()
    for step in range(1, 8):
        services.sos_location_add(sos_id=raised.sos.pk, latitude=10.0 + step, longitude=77.0, actor=owner,
                                  recorded_at=start + timedelta(seconds=step))
    raise_sos()  # another trail, which must not mix in

    items = client_for(dispatcher).get("/api/console/queue/?trail_points=3").json()["items"]

    trail = next(item["trail"] for item in items if item["sos"]["id"] == raised.sos.pk)
    assert [point["latitude"] for point in trail] == [15.0, 16.0, 17.0]


def test_points_tied_at_the_cutoff_time_still_give_exactly_the_newest_points(dispatcher):
    raised = raise_sos(latitude=10.0)
    owner = Actor.from_credentials(sos_token=raised.token)
    start = timezone.now()
    for step, second in enumerate([1, 2, 2, 2, 3], start=1):
        services.sos_location_add(sos_id=raised.sos.pk, latitude=10.0 + step, longitude=77.0, actor=owner,
                                  recorded_at=start + timedelta(seconds=second))

    items = client_for(dispatcher).get("/api/console/queue/?trail_points=3").json()["items"]

    assert [point["latitude"] for point in items[0]["trail"]] == [13.0, 14.0, 15.0]


def test_the_snapshot_costs_the_same_queries_for_one_alert_or_twenty(dispatcher, unit_a):
    client = client_for(dispatcher)
    raise_sos()
    client.get("/api/console/queue/")  # the token and session warm up
    with CaptureQueriesContext(connection) as one:
        client.get("/api/console/queue/")
    for _ in range(19):
        raised = raise_sos()
        services.sos_assign(sos_id=raised.sos.pk, officer_name="Rao", unit_number="UNIT-A", actor=Actor(user=dispatcher))
    with CaptureQueriesContext(connection) as twenty:
        response = client.get("/api/console/queue/")

    assert len(response.json()["items"]) == 20
    assert len(twenty.captured_queries) == len(one.captured_queries)


# What one snapshot reads, whatever the number of alerts (16 today): the token with its user, the escalation board
# (four), the open SOS alerts, every trail at once, the assignments, the open incidents, the units and their crews,
# and what closed recently (a count, the rows and their closing entries for each kind).
SNAPSHOT_QUERIES = 16


def test_the_snapshot_reads_every_trail_at_once_not_one_query_per_alert(dispatcher, unit_a, device, beacon,
                                                                         django_assert_max_num_queries):
    control = Actor(user=dispatcher)
    start = timezone.now()
    for n in range(12):
        raised = raise_sos()
        owner = Actor.from_credentials(sos_token=raised.token)
        for step in range(3):
            services.sos_location_add(sos_id=raised.sos.pk, latitude=10.0 + step, longitude=77.0, actor=owner,
                                      recorded_at=start + timedelta(seconds=step))
        if n % 3 == 0:
            services.sos_assign(sos_id=raised.sos.pk, officer_name="Rao", unit_number="UNIT-A", actor=control)
    services.sos_resolve(sos_id=raise_sos().sos.pk, actor=control, note="safe")
    incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                          confidence_score=0.95, description="fight")
    client = client_for(dispatcher)

    with django_assert_max_num_queries(SNAPSHOT_QUERIES):
        items = client.get("/api/console/queue/?trail_points=2").json()["items"]

    assert [len(item["trail"]) for item in items if item["kind"] == "sos"] == [2] * 12
    assert sum(len(item["assignments"]) for item in items) == 4


def test_only_responders_get_the_queue_and_a_bad_trail_size_is_a_clear_error(citizen, dispatcher, anon):
    raise_sos()
    assert anon.get("/api/console/queue/").status_code == 401
    assert client_for(citizen).get("/api/console/queue/").status_code == 403
    response = client_for(dispatcher).get("/api/console/queue/?trail_points=9999")
    assert response.status_code == 400 and "trail_points" in response.json()["fields"]


def test_an_escalated_alert_comes_before_older_unacknowledged_ones_with_its_level_and_time_in_status(dispatcher):
    from response import services as response_services
    from response.tests.conftest import make_ladder

    policy = make_ladder("sos", "emergency", [{"level": 1, "in_status": "active", "after_seconds": 30, "label": "30 s"}])
    oldest, escalated = raise_sos(), raise_sos()
    age(oldest, 10)
    response_services.escalation_fire(step_id=policy.steps.get().pk, sos_id=escalated.sos.pk,
                                      now=escalated.sos.created_at + timedelta(seconds=31))

    items = client_for(dispatcher).get("/api/console/queue/").json()["items"]

    assert [item["sos"]["id"] for item in items] == [escalated.sos.pk, oldest.sos.pk]
    assert (items[0]["level"], items[0]["level_label"], items[1]["level"]) == (1, "30 s", 0)
    assert items[1]["status_since"] is not None


def test_recently_closed_alerts_come_with_who_closed_them_and_why(dispatcher):
    control = Actor(user=dispatcher)
    resolved, cancelled = raise_sos(), raise_sos()
    raise_sos()  # still open: not in the closed list
    services.sos_resolve(sos_id=resolved.sos.pk, actor=control, note="Found safe at the station")
    services.sos_cancel(sos_id=cancelled.sos.pk, actor=Actor.from_credentials(sos_token=cancelled.token))

    closed = client_for(dispatcher).get("/api/console/queue/").json()["recently_closed"]

    by_id = {item["sos"]["id"]: item for item in closed}
    assert set(by_id) == {resolved.sos.pk, cancelled.sos.pk}
    assert (by_id[resolved.sos.pk]["how"], by_id[resolved.sos.pk]["note"]) == ("resolved", "Found safe at the station")
    assert by_id[resolved.sos.pk]["closed_by"] == "dispatcher:dispatch"
    assert (by_id[cancelled.sos.pk]["how"], by_id[cancelled.sos.pk]["closed_by"]) == ("cancelled", "sos-owner-token")


def test_the_history_pages_through_closed_alerts_newest_first_and_filters_by_text(dispatcher):
    control = Actor(user=dispatcher)
    ids = []
    for n in range(30):
        raised = raise_sos(name="Meera" if n == 7 else f"Citizen {n}")
        services.sos_resolve(sos_id=raised.sos.pk, actor=control, note=f"note {n}")
        ids.append(raised.sos.pk)
    client = client_for(dispatcher)

    first, second = client.get("/api/console/history/").json(), client.get("/api/console/history/?page=2").json()
    found = client.get("/api/console/history/?q=meer&kind=sos").json()

    assert (first["count"], first["pages"], len(first["results"]), len(second["results"])) == (30, 2, 25, 5)
    assert [item["sos"]["id"] for item in first["results"] + second["results"]] == list(reversed(ids))
    assert [item["note"] for item in found["results"]] == ["note 7"]
    bad = client.get("/api/console/history/?page=0&kind=cars")
    assert bad.status_code == 400 and {"page", "kind"} <= set(bad.json()["fields"])


def test_the_history_filters_by_status_priority_and_unit_on_the_server(dispatcher, officer_a, unit_b, device, beacon):
    control = Actor(user=dispatcher)
    sent_a = raise_sos(name="Sent A")
    services.sos_assign(sos_id=sent_a.sos.pk, officer_name="Rao", unit_number="UNIT-A", actor=control)
    services.sos_resolve(sos_id=sent_a.sos.pk, actor=control, note="safe")
    sent_b = raise_sos(name="Sent B")
    services.sos_assign(sos_id=sent_b.sos.pk, officer_name="Das", unit_number="UNIT-B", actor=control)
    services.sos_resolve(sos_id=sent_b.sos.pk, actor=control, note="safe too")
    cancelled = raise_sos(name="Cancelled")
    services.sos_cancel(sos_id=cancelled.sos.pk, actor=Actor.from_credentials(sos_token=cancelled.token))
    alert = raise_sos(name="Mere alert")
    SOS.objects.filter(pk=alert.sos.pk).update(sos_type=SOS.Type.ALERT)
    services.sos_resolve(sos_id=alert.sos.pk, actor=control, note="false alarm")
    incident = incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                                     confidence_score=0.9, description="fight").incident
    incident_services.incident_assign(incident_id=incident.pk, officer_username=officer_a.username, actor=control)
    incident_services.incident_resolve(incident_id=incident.pk, actor=control, resolution_note="dispersed")
    incident.refresh_from_db()
    client = client_for(dispatcher)

    def found(**params) -> set:
        answer = client.get("/api/console/history/", params)
        assert answer.status_code == 200, answer.json()
        results = answer.json()["results"]
        return {item["sos"]["id"] if item["kind"] == "sos" else item["incident"]["id"] for item in results}

    assert found(status="cancelled") == {cancelled.sos.pk}
    assert found(status="resolved") == {sent_a.sos.pk, sent_b.sos.pk, alert.sos.pk, str(incident.pk)}
    assert found(status="resolved", kind="sos") == {sent_a.sos.pk, sent_b.sos.pk, alert.sos.pk}
    assert found(priority="high") == {alert.sos.pk} | ({str(incident.pk)} if incident.priority == "High" else set())
    assert found(priority=incident.priority.lower(), kind="incident") == {str(incident.pk)}
    assert found(priority="low", kind="sos") == set()
    assert found(unit="UNIT-A") == {sent_a.sos.pk, str(incident.pk)}
    assert found(unit="UNIT-B", status="resolved") == {sent_b.sos.pk}
    assert client.get("/api/console/history/", {"unit": "UNIT-A", "page": 1}).json()["count"] == 2

    bad = client.get("/api/console/history/", {"status": "closed", "priority": "urgent", "unit": "PCR-99"})
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"status", "priority", "unit"}
    assert "There is no unit PCR-99." in str(bad.json()["fields"]["unit"])


def test_the_full_trail_pages_backwards_from_a_point_in_time(dispatcher, citizen):
    raised = raise_sos(latitude=10.0)
    owner = Actor.from_credentials(sos_token=raised.token)
    start = raised.sos.created_at
    for step in range(1, 8):
        services.sos_location_add(sos_id=raised.sos.pk, latitude=10.0 + step, longitude=77.0, actor=owner,
                                  recorded_at=start + timedelta(seconds=step))
    client = client_for(dispatcher)
    url = f"/api/console/sos/{raised.sos.pk}/trail/"

    first = client.get(url, {"before": (start + timedelta(seconds=6)).isoformat(), "limit": 3}).json()
    rest = client.get(url, {"before": first["points"][-1]["recorded_at"], "limit": 3}).json()

    assert [p["latitude"] for p in first["points"]] == [15.0, 14.0, 13.0] and first["has_more"]
    assert [p["latitude"] for p in rest["points"]] == [12.0, 11.0, 10.0] and not rest["has_more"]
    assert client.get(url).status_code == 400
    assert client.get("/api/console/sos/999999/trail/", {"before": start.isoformat()}).status_code == 404
    assert client_for(citizen).get(url, {"before": start.isoformat()}).status_code == 403


def test_the_fast_snapshot_has_the_shape_of_its_documented_serializer(dispatcher, unit_a, device, beacon):
    from console import apis
    from console.selectors import open_queue, recently_closed

    control = Actor(user=dispatcher)
    raised = raise_sos()
    services.sos_assign(sos_id=raised.sos.pk, officer_name="Rao", unit_number="UNIT-A", actor=control)
    services.sos_resolve(sos_id=raise_sos().sos.pk, actor=control, note="safe")
    # Every optional field of an SOS filled in, and a trail, so that each is compared.
    full = raise_sos()
    now = timezone.now()
    SOS.objects.filter(pk=full.sos.pk).update(
        last_known_latitude=22.5, last_known_longitude=88.3, last_known_accuracy_m=30.0,
        last_known_at=now - timedelta(minutes=3, microseconds=1), device_hints={"tz": "Asia/Kolkata"},
        duress_at=now.replace(microsecond=0), suspected_flood=True, flood_source="f00d", last_located_at=now,
        accuracy_m=12.5, cancel_pin_hash="x")
    owner = Actor.from_credentials(sos_token=full.token)
    for step in range(3):
        services.sos_location_add(sos_id=full.sos.pk, latitude=22.5 + step, longitude=88.3, actor=owner,
                                  recorded_at=now + timedelta(seconds=step, microseconds=step * 250_000))
    incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                          confidence_score=0.95, description="fight")
    request = type("Request", (), {"build_absolute_uri": lambda self, url: url})()

    for zone in ("UTC", "Asia/Kolkata"):  # UTC has its own fast path
        with timezone.override(zone):
            items, closed = open_queue(), recently_closed()
            fast = apis.queue_payload(items, request)
            documented = apis.QueueItemOutput(items, many=True, context={"request": request}).data
            assert fast == documented
            assert apis.closed_payload(closed, request) == apis.ClosedItemOutput(closed, many=True,
                                                                                 context={"request": request}).data
    row = next(item["sos"] for item in fast if item["kind"] == "sos" and item["sos"]["id"] == full.sos.pk)
    assert row["last_known"]["age_s"] is not None and row["duress_at"].endswith("+05:30")


def test_an_officer_sees_every_open_alert_but_phones_and_closed_alerts_only_of_their_unit(
        dispatcher, officer_a, unit_b, device, beacon):
    """docs/security.md: an officer sees every open SOS (any may be theirs to reach), a victim's phone only on
    their unit's, and closed alerts only of their unit, in the queue's recently closed list and the history."""
    control = Actor(user=dispatcher)
    ours, theirs, _nobodys = (raise_sos(name=name) for name in ("Ours", "Theirs", "Nobody's"))
    SOS.objects.update(phone="+919800000001")
    services.sos_assign(sos_id=ours.sos.pk, officer_name="Rao", unit_number="UNIT-A", actor=control)
    services.sos_assign(sos_id=theirs.sos.pk, officer_name="Das", unit_number="UNIT-B", actor=control)
    closed_ours, closed_theirs = raise_sos(name="Closed ours"), raise_sos(name="Closed theirs")
    services.sos_assign(sos_id=closed_ours.sos.pk, officer_name="Rao", unit_number="UNIT-A", actor=control)
    services.sos_assign(sos_id=closed_theirs.sos.pk, officer_name="Das", unit_number="UNIT-B", actor=control)
    for closed in (closed_ours, closed_theirs):
        services.sos_resolve(sos_id=closed.sos.pk, actor=control, note="safe")
    incident = incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                                     confidence_score=0.9, description="fight").incident
    incident_services.incident_resolve(incident_id=incident.pk, actor=control, resolution_note="dispersed")

    def closed_ids(items):
        return {item["sos"]["id"] if item["kind"] == "sos" else item["incident"]["id"] for item in items}

    officer, desk = client_for(officer_a), client_for(dispatcher)
    queue = officer.get("/api/console/queue/").json()
    phones = {item["sos"]["name"]: item["sos"]["phone"] for item in queue["items"] if item["kind"] == "sos"}
    assert phones == {"Ours": "+919800000001", "Theirs": "", "Nobody's": ""}
    assert closed_ids(queue["recently_closed"]) == {closed_ours.sos.pk}
    assert closed_ids(officer.get("/api/console/history/").json()["results"]) == {closed_ours.sos.pk}
    assert officer.get("/api/console/history/", {"unit": "UNIT-B"}).json()["count"] == 0

    # The control room sees it all.
    desk_phones = {item["sos"]["name"]: item["sos"]["phone"] for item in desk.get("/api/console/queue/").json()["items"]
                   if item["kind"] == "sos"}
    assert set(desk_phones.values()) == {"+919800000001"}
    assert closed_ids(desk.get("/api/console/history/").json()["results"]) == {
        closed_ours.sos.pk, closed_theirs.sos.pk, str(incident.pk)}
