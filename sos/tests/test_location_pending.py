"""An SOS without a position is still raised (location pending); its first point locates it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from naarikavach.testing import client_for
from realtime.models import OutboxEvent
from sos.models import SOS, LocationUpdate

pytestmark = pytest.mark.django_db

WITHOUT_POSITION = {"name": "Asha", "sos_type": 0, "phone": "+919876543210"}


def counts():
    return SOS.objects.count(), LocationUpdate.objects.count(), OutboxEvent.objects.count()


def raise_pending(anon, **extra):
    response = anon.post("/api/create-sos/", {**WITHOUT_POSITION, **extra}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_an_sos_without_coordinates_is_raised_as_location_pending(anon):
    body = raise_pending(anon)
    sos = SOS.objects.get(pk=body["sos_id"])
    assert sos.location_pending and sos.status == SOS.Status.ACTIVE
    assert sos.phone == "+919876543210"
    assert (sos.last_latitude, sos.last_longitude, sos.locations.count()) == (None, None, 0)
    announced = OutboxEvent.objects.get(event="new_sos")
    assert announced.payload["location_pending"] is True
    assert announced.payload["latitude"] is None and announced.payload["phone"] == "+919876543210"


def test_it_carries_the_phones_last_known_position_with_its_age_and_coarse_hints(anon):
    fixed_at = timezone.now() - timedelta(minutes=7)
    body = raise_pending(anon, last_known={"latitude": 22.57, "longitude": 88.36, "accuracy_m": 30,
                                           "recorded_at": fixed_at.isoformat()},
                         device_hints={"timezone": "Asia/Kolkata", "language": "bn-IN", "network": "3g",
                                       "battery_percent": 14})
    detail = client_for(None, sos_token=body["access_token"]).get(f"/api/sos/{body['sos_id']}/").json()
    assert detail["location_pending"] is True
    assert detail["last_known"]["latitude"] == 22.57 and detail["last_known"]["accuracy_m"] == 30
    assert 7 * 60 - 5 <= detail["last_known"]["age_s"] <= 7 * 60 + 5
    assert detail["device_hints"] == {"timezone": "Asia/Kolkata", "language": "bn-IN", "network": "3g",
                                      "battery_percent": 14}


@pytest.mark.parametrize("bad", [
    {"initial_latitude": 12.9},  # one coordinate without the other
    {"last_known": {"latitude": 123, "longitude": 88}},
    {"last_known": {"latitude": 12, "longitude": 88, "recorded_at": "2099-01-01T00:00:00Z"}},
    {"device_hints": {"ip_address": "1.2.3.4"}},
    {"device_hints": {"battery_percent": 140}},
    {"device_hints": {"timezone": "x" * 65}},
])
def test_bad_pending_input_is_dropped_and_the_sos_still_raised(anon, bad):
    body = raise_pending(anon, **bad)
    assert set(body["dropped"]) >= set(bad)
    assert SOS.objects.get(pk=body["sos_id"]).location_pending


def test_the_first_point_locates_the_sos_and_tells_the_dashboards(anon):
    body = raise_pending(anon)
    owner = client_for(None, sos_token=body["access_token"])
    response = owner.post("/api/update-location/", {"sos_request": body["sos_id"], "latitude": 22.6,
                                                    "longitude": 88.4, "accuracy_m": 15})
    assert response.status_code == 201
    sos = SOS.objects.get(pk=body["sos_id"])
    assert not sos.location_pending
    assert (sos.initial_latitude, sos.last_latitude, sos.accuracy_m) == (22.6, 22.6, 15)
    located = OutboxEvent.objects.get(event="sos_updated", payload__action="located")
    assert located.payload["location_pending"] is False and located.payload["latitude"] == 22.6
    assert "sos_channel" in located.rooms
    assert sos.audit_trail.filter(action="located").exists()
    # Only the first point locates it.
    owner.post("/api/update-location/", {"sos_request": body["sos_id"], "latitude": 22.61, "longitude": 88.4})
    assert OutboxEvent.objects.filter(event="sos_updated", payload__action="located").count() == 1


def test_accuracy_follows_the_newest_fix(anon):
    body = anon.post("/api/create-sos/", {"sos_type": 0, "initial_latitude": 12.9, "initial_longitude": 77.6,
                                          "accuracy_m": 20}).json()
    owner = client_for(None, sos_token=body["access_token"])
    now = timezone.now()
    owner.post("/api/update-location/", {"sos_request": body["sos_id"], "latitude": 12.91, "longitude": 77.6,
                                         "accuracy_m": 8, "recorded_at": (now + timedelta(seconds=5)).isoformat()})
    assert SOS.objects.get(pk=body["sos_id"]).accuracy_m == 8
    # An older point arriving late changes the trail, not the position or its accuracy.
    owner.post("/api/update-location/", {"sos_request": body["sos_id"], "latitude": 12.95, "longitude": 77.6,
                                         "accuracy_m": 50, "recorded_at": (now + timedelta(seconds=1)).isoformat()})
    sos = SOS.objects.get(pk=body["sos_id"])
    assert (sos.last_latitude, sos.accuracy_m) == (12.91, 8)


def test_a_point_dated_before_the_sos_was_raised_is_refused(anon):
    body = anon.post("/api/create-sos/", {"sos_type": 0, "initial_latitude": 12.9, "initial_longitude": 77.6}).json()
    owner = client_for(None, sos_token=body["access_token"])
    before = counts()
    response = owner.post("/api/update-location/", {
        "sos_request": body["sos_id"], "latitude": 12.91, "longitude": 77.6,
        "recorded_at": (timezone.now() - timedelta(days=400)).isoformat()})
    assert response.status_code == 400
    assert "before the SOS was raised" in response.json()["fields"]["recorded_at"][0]
    assert counts() == before
    # A fix a few seconds older than the press (within the tolerance) is fine.
    response = owner.post("/api/update-location/", {
        "sos_request": body["sos_id"], "latitude": 12.91, "longitude": 77.6,
        "recorded_at": (timezone.now() - timedelta(seconds=30)).isoformat()})
    assert response.status_code == 201


def test_the_trail_of_a_pending_sos_names_its_room_so_the_phone_can_join_it(anon):
    from sos.selectors import sos_trail

    body = raise_pending(anon)
    trail = sos_trail(sos_id=body["sos_id"])
    assert (trail.room_id, trail.points) == (body["room_id"], [])
