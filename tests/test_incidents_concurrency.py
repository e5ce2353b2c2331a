"""Concurrent detection reports against a live server: one fight seen by several reports makes one incident."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.urls import reverse

from incidents.models import AIEvent, AlertDelivery, Incident
from incidents.services import beacon_create, device_create
from incidents.tests.factories import image_bytes
from incidents.tests.fixtures import _private_evidence_dir, beacon  # noqa: F401
from realtime.models import OutboxEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REPORTS = 6


def _cameras(count: int, beacon=None) -> list[str]:
    """Several cameras, as when one fight is in view of many: each report then holds no lock of the others'."""
    return [device_create(device_id=f"CAM-{n:02d}", beacon=beacon)[1] for n in range(count)]


def _post_all_at_once(url: str, keys: list[str], beacon_ids: list[str]) -> list[httpx.Response]:
    start = threading.Barrier(len(beacon_ids))

    def post(number: int) -> httpx.Response:
        data = {"beacon_id": beacon_ids[number], "confidence_score": "0.9", "description": f"Fight, report {number}"}
        files = [("images", (f"frame{number}.jpg", image_bytes(color=(number * 30, 0, 0)), "image/jpeg"))]
        headers = {"Authorization": f"Device {keys[number]}"}
        start.wait()
        return httpx.post(url, data=data, files=files, headers=headers, timeout=60)

    with ThreadPoolExecutor(len(beacon_ids)) as pool:
        return list(pool.map(post, range(len(beacon_ids))))


def test_simultaneous_reports_of_one_fight_make_exactly_one_incident(live_server, settings, beacon):
    settings.ALERT_WEBHOOK_URLS = ["http://127.0.0.1:9/alerts"]

    responses = _post_all_at_once(
        live_server.url + reverse("ai-violence-detected"), _cameras(REPORTS, beacon), [beacon.beacon_id] * REPORTS
    )

    assert sorted(r.status_code for r in responses) == [200] * (REPORTS - 1) + [201], [r.text for r in responses]
    incident = Incident.objects.get()
    assert {r.json()["incident_id"] for r in responses} == {str(incident.pk)}
    assert incident.signal_count == REPORTS == incident.signals.count() == AIEvent.objects.count()
    assert incident.images.count() == REPORTS
    assert OutboxEvent.objects.filter(event="incident_created").count() == 1
    assert OutboxEvent.objects.filter(event="incident_updated", payload__action="signal_added").count() == REPORTS - 1
    assert AlertDelivery.objects.count() == 1


def test_simultaneous_reports_at_two_beacons_make_one_incident_each(live_server, beacon):
    second = beacon_create(beacon_id="GATE-2", name="Gate 2")

    responses = _post_all_at_once(
        live_server.url + reverse("ai-violence-detected"), _cameras(REPORTS),
        [beacon.beacon_id, second.beacon_id] * (REPORTS // 2),
    )

    assert sorted(r.status_code for r in responses) == [200] * (REPORTS - 2) + [201, 201]
    assert sorted(Incident.objects.values_list("beacon__beacon_id", "signal_count")) == [
        ("GATE-2", REPORTS // 2), (beacon.beacon_id, REPORTS // 2),
    ]
