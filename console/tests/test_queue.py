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


def test_only_responders_get_the_queue_and_a_bad_trail_size_is_a_clear_error(citizen, dispatcher, anon):
    raise_sos()
    assert anon.get("/api/console/queue/").status_code == 401
    assert client_for(citizen).get("/api/console/queue/").status_code == 403
    response = client_for(dispatcher).get("/api/console/queue/?trail_points=9999")
    assert response.status_code == 400 and "trail_points" in response.json()["fields"]
