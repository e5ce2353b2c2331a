"""A genuine SOS is never refused for a bad optional detail: the detail is dropped, the SOS raised and
flagged, and the response names what was dropped. Only a body that is not an object is refused."""

import pytest

from realtime.models import OutboxEvent
from sos.models import SOS, LocationUpdate, SOSAuditEntry

pytestmark = pytest.mark.django_db

VALID_SOS = {"name": "Asha", "sos_type": 0, "initial_latitude": 12.9716, "initial_longitude": 77.5946,
             "phone": "+919876543210"}
LAST_KNOWN = {"latitude": 22.57, "longitude": 88.36, "accuracy_m": 30}


def raise_with(anon, body: dict, **headers) -> tuple[SOS, dict]:
    response = anon.post("/api/create-sos/", body, format="json", **headers)
    assert response.status_code == 201, response.json()
    return SOS.objects.get(pk=response.json()["sos_id"]), response.json()


def flagged(sos: SOS) -> list[str]:
    return SOSAuditEntry.objects.get(sos_request=sos, action="created").details.get("details_dropped", [])


# (what the client sent, the fields dropped, what the SOS is raised with instead)
BAD_DETAILS = [
    ({"phone": "call me maybe"}, {"phone"}, {"phone": ""}),
    ({"phone": "9" * 40}, {"phone"}, {"phone": ""}),
    ({"phone": {"number": 1}}, {"phone"}, {"phone": ""}),
    ({"name": "x" * 500}, {"name"}, {"name": "Anonymous"}),
    ({"name": "Asha\x07\x1b[2J"}, {"name"}, {"name": "Anonymous"}),
    ({"sos_type": 7}, {"sos_type"}, {"sos_type": SOS.Type.EMERGENCY}),
    ({"initial_latitude": 90.5}, {"initial_latitude", "initial_longitude"}, {"location_pending": True}),
    ({"initial_longitude": "east"}, {"initial_latitude", "initial_longitude"}, {"location_pending": True}),
    ({"initial_latitude": "NaN"}, {"initial_latitude", "initial_longitude"}, {"location_pending": True}),
    ({"initial_latitude": None}, {"initial_latitude", "initial_longitude"}, {"location_pending": True}),
    ({"accuracy_m": -3}, {"accuracy_m"}, {"accuracy_m": None, "location_pending": False}),
    ({"last_known": {"latitude": 123, "longitude": 88}}, {"last_known"}, {"last_known_latitude": None}),
    ({"last_known": {**LAST_KNOWN, "recorded_at": "2099-01-01T00:00:00Z"}}, {"last_known"},
     {"last_known_latitude": None}),
    ({"last_known": "here"}, {"last_known"}, {"last_known_latitude": None}),
    ({"device_hints": {"ip_address": "1.2.3.4"}}, {"device_hints"}, {"device_hints": {}}),
    ({"device_hints": {"battery_percent": 140}}, {"device_hints"}, {"device_hints": {}}),
    ({"device_hints": ["no"]}, {"device_hints"}, {"device_hints": {}}),
    ({"cancel_pin": "12a4"}, {"cancel_pin"}, {"cancel_pin_hash": ""}),
    ({"cancel_pin": "1234", "duress_pin": "1234"}, {"duress_pin"}, {"duress_pin_hash": ""}),
    ({"duress_pin": "9999"}, {"cancel_pin", "duress_pin"}, {"duress_pin_hash": ""}),  # it needs a cancel PIN
    ({"idempotency_key": "short"}, {"idempotency_key"}, {"idempotency_key_hash": None}),
    ({"device_id": "bad id!"}, {"device_id"}, {}),
]


@pytest.mark.parametrize(("bad", "fields", "raised_with"), BAD_DETAILS)
def test_a_bad_optional_detail_is_dropped_and_the_sos_raised_and_flagged(anon, bad, fields, raised_with):
    sos, body = raise_with(anon, {**VALID_SOS, **bad})
    assert set(body["dropped"]) == fields and all(body["dropped"][field] for field in fields)
    assert flagged(sos) == sorted(fields)
    for attribute, value in raised_with.items():
        assert getattr(sos, attribute) == value, attribute
    # Everything else she sent still counts, and the dashboards hear of it at once.
    assert sos.status == SOS.Status.ACTIVE
    if "phone" not in fields:
        assert sos.phone == VALID_SOS["phone"]
    assert OutboxEvent.objects.filter(event="new_sos", payload__sos_id=sos.pk).exists()


def test_a_good_sos_drops_nothing(anon):
    sos, body = raise_with(anon, {**VALID_SOS, "last_known": LAST_KNOWN, "cancel_pin": "1357"})
    assert body["dropped"] == {} and flagged(sos) == []
    assert sos.last_known_latitude == 22.57 and sos.cancel_pin_hash and LocationUpdate.objects.filter(sos_request=sos)


def test_several_bad_details_are_all_dropped_and_the_rest_kept(anon):
    sos, body = raise_with(anon, {**VALID_SOS, "phone": "?", "device_hints": {"battery_percent": -1},
                                  "last_known": LAST_KNOWN, "accuracy_m": 12})
    assert set(body["dropped"]) == {"phone", "device_hints"}
    assert (sos.phone, sos.device_hints, sos.last_known_latitude, sos.accuracy_m) == ("", {}, 22.57, 12)


def test_an_empty_body_still_raises_an_emergency_waiting_for_its_position(anon):
    sos, body = raise_with(anon, {})
    assert body["dropped"] == {} and sos.location_pending and sos.sos_type == SOS.Type.EMERGENCY


def test_a_malformed_idempotency_header_is_dropped_too(anon):
    sos, body = raise_with(anon, VALID_SOS, HTTP_IDEMPOTENCY_KEY="short")
    assert set(body["dropped"]) == {"idempotency_key"} and sos.idempotency_key_hash is None


@pytest.mark.parametrize("body", [[VALID_SOS], "SOS", 12])
def test_a_body_that_is_not_an_object_is_still_a_clear_400(anon, body):
    response = anon.post("/api/create-sos/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert not SOS.objects.exists()


def test_a_form_post_drops_bad_details_the_same_way(anon):
    response = anon.post("/api/create-sos/", {**VALID_SOS, "phone": "nope", "accuracy_m": "far"})
    assert response.status_code == 201 and set(response.json()["dropped"]) == {"phone", "accuracy_m"}
