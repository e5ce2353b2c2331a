"""Flood control never refuses a victim: floods are flagged and grouped; only a hard ceiling answers 429."""

import pytest

from naarikavach.testing import client_for
from realtime.models import OutboxEvent
from sos.models import SOS

pytestmark = pytest.mark.django_db

VALID_SOS = {"name": "Asha", "sos_type": 0, "initial_latitude": 12.9716, "initial_longitude": 77.5946}
SHARED_NAT = "100.64.0.7"


@pytest.fixture(autouse=True)
def flood_limits(settings):
    settings.SOS_FLOOD_SENDER_THRESHOLD = 3
    settings.SOS_FLOOD_ADDRESS_THRESHOLD = 5
    settings.SOS_FLOOD_NEW_SENDERS_PER_ADDRESS = 8
    settings.SOS_FLOOD_CEILING = 40
    settings.SOS_POINTS_PER_MINUTE = 5


def raise_from(client, address=SHARED_NAT, **extra):
    return client.post("/api/create-sos/", {**VALID_SOS, **extra}, REMOTE_ADDR=address, format="json")


def announced(sos_id):
    return OutboxEvent.objects.get(event="new_sos", payload__sos_id=sos_id).payload


def test_a_flooder_is_flagged_not_refused_and_a_second_citizen_on_the_same_address_alerts_normally(anon):
    flood = [raise_from(anon, device_id="flooder-device-1") for _ in range(20)]
    assert {r.status_code for r in flood} == {201}
    flagged = SOS.objects.filter(suspected_flood=True)
    assert flagged.count() == 17  # beyond the first 3 of that phone
    assert len({s.flood_source for s in flagged}) == 1 and SHARED_NAT not in flagged[0].flood_source
    assert announced(flood[-1].json()["sos_id"])["suspected_flood"] is True

    second_citizen = raise_from(anon, name="Bina", device_id="bina-phone-0001")
    assert second_citizen.status_code == 201
    sos = SOS.objects.get(pk=second_citizen.json()["sos_id"])
    assert not sos.suspected_flood
    assert announced(sos.pk)["suspected_flood"] is False


def test_callers_without_a_device_id_share_their_address_count_with_a_higher_threshold(anon):
    answers = [raise_from(anon) for _ in range(7)]
    assert [SOS.objects.get(pk=a.json()["sos_id"]).suspected_flood for a in answers] == [False] * 5 + [True] * 2
    # A phone with its own id at that address is counted on its own.
    assert not SOS.objects.get(pk=raise_from(anon, device_id="a-real-phone-1").json()["sos_id"]).suspected_flood
    # And another address is untouched.
    assert not SOS.objects.get(pk=raise_from(anon, address="10.9.9.9").json()["sos_id"]).suspected_flood


def test_a_flooder_inventing_a_device_id_per_sos_is_flagged_once_new_senders_pile_up(anon):
    answers = [raise_from(anon, device_id=f"made-up-{i:04d}") for i in range(12)]
    flags = [SOS.objects.get(pk=a.json()["sos_id"]).suspected_flood for a in answers]
    assert flags == [False] * 8 + [True] * 4


def test_a_signed_in_citizen_is_counted_by_account_not_address(anon, citizen):
    for _ in range(10):
        raise_from(anon)
    mine = raise_from(client_for(citizen))
    assert not SOS.objects.get(pk=mine.json()["sos_id"]).suspected_flood


def test_only_the_hard_ceiling_answers_429_and_it_says_call_112(anon):
    codes = [raise_from(anon, device_id=f"bot-{i:06d}").status_code for i in range(41)]
    assert codes == [201] * 40 + [429]
    refused = raise_from(anon, device_id="late-phone-1")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled" and "112" in refused.json()["error"]
    assert "Retry-After" in refused
    assert SOS.objects.count() == 40


def test_a_retry_with_the_same_key_is_not_counted_again(anon):
    for _ in range(10):
        answer = raise_from(anon, device_id="retrying-phone", idempotency_key="the-same-key-0123456789")
    sos = SOS.objects.get()
    assert answer.json()["sos_id"] == sos.pk and not sos.suspected_flood


def test_location_points_are_bounded_per_sos_not_per_address(anon):
    one = raise_from(anon).json()
    two = raise_from(anon).json()

    def point(raised):
        return client_for(None, sos_token=raised["access_token"]).post(
            "/api/update-location/", {"sos_request": raised["sos_id"], "latitude": 12.9, "longitude": 77.6},
            REMOTE_ADDR=SHARED_NAT)

    assert [point(one).status_code for _ in range(6)] == [201] * 5 + [429]
    assert point(two).status_code == 201
