"""What an SOS endpoint gives away, and how much it takes: a made-up token learns nothing, a trail
cannot be flooded."""

import pytest

from sos.models import LocationUpdate
from sos.tests.conftest import raise_sos

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["detail", "update_location", "cancel"])
def test_a_made_up_sos_token_gets_the_same_answer_for_an_existing_and_a_missing_sos(client_for, method):
    existing = raise_sos().sos
    stranger = client_for(None, sos_token="made-up-token")

    def call(sos_id):
        if method == "detail":
            return stranger.get(f"/api/sos/{sos_id}/")
        if method == "update_location":
            return stranger.post("/api/update-location/", {"sos_request": sos_id, "latitude": 1, "longitude": 1})
        return stranger.post(f"/api/cancel-sos/{sos_id}/")

    for_existing, for_missing = call(existing.pk), call(existing.pk + 1000)
    assert (for_existing.status_code, for_existing.json()) == (for_missing.status_code, for_missing.json())
    assert for_existing.status_code == 404


def test_points_beyond_the_per_minute_budget_of_an_sos_get_a_429_to_back_off_from(client_for, settings):
    settings.SOS_POINTS_PER_MINUTE = 3
    raised = raise_sos()
    phone = client_for(None, sos_token=raised.token)
    codes = [phone.post("/api/update-location/", {"sos_request": raised.sos.pk, "latitude": 12.9 + i / 100,
                                                  "longitude": 77.5}).status_code for i in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    refused = phone.post("/api/update-location/", {"sos_request": raised.sos.pk, "latitude": 1, "longitude": 1})
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert LocationUpdate.objects.filter(sos_request=raised.sos).count() == 1 + 3  # the first point + 3
    # Another SOS has a budget of its own.
    other = raise_sos()
    assert client_for(None, sos_token=other.token).post(
        "/api/update-location/", {"sos_request": other.sos.pk, "latitude": 1, "longitude": 1}).status_code == 201


def test_the_raiser_sees_who_acted_by_role_and_responders_by_name(client_for, dispatcher):
    from realtime.models import OutboxEvent

    raised = raise_sos()
    assert client_for(dispatcher).post(f"/api/sos/{raised.sos.pk}/acknowledge/").status_code == 200

    owner_view = client_for(None, sos_token=raised.token).get(f"/api/sos/{raised.sos.pk}/").json()
    responder_view = client_for(dispatcher).get(f"/api/sos/{raised.sos.pk}/").json()
    assert [entry["by"] for entry in owner_view["audit_trail"]] == ["sos-owner-token", "dispatcher"]
    assert [entry["by"] for entry in responder_view["audit_trail"]] == ["sos-owner-token", "dispatcher:dispatch"]
    # The realtime event reaches the raiser's own room too: it carries the role only.
    (event,) = OutboxEvent.objects.filter(event="sos_updated")
    assert event.payload["by"] == "dispatcher"
    assert "dispatch" not in str(event.payload).replace("dispatcher", "")


def test_the_detail_returns_only_the_newest_points_of_a_long_trail_oldest_first(client_for, dispatcher, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.SOS_DETAIL_MAX_POINTS = 3
    raised = raise_sos()
    start = timezone.now() - timedelta(minutes=10)
    LocationUpdate.objects.bulk_create(
        LocationUpdate(sos_request=raised.sos, latitude=10 + i, longitude=77.0, recorded_at=start + timedelta(seconds=i),
                       received_at=start + timedelta(seconds=i))
        for i in range(6)
    )
    points = client_for(dispatcher).get(f"/api/sos/{raised.sos.pk}/").json()["locations"]
    # The 6 added points are older than the first one (raised now): the newest three are 14, 15 and the first.
    assert [point["latitude"] for point in points] == [14, 15, 12.9716]
