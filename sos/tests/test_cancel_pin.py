"""Cancel with a PIN; the duress PIN looks like a cancel to the phone but keeps the SOS open for the police."""

import pytest

from naarikavach.testing import client_for
from realtime.models import OutboxEvent
from sos.models import SOS, SOSAuditEntry

pytestmark = pytest.mark.django_db

VALID_SOS = {"name": "Asha", "sos_type": 0, "initial_latitude": 12.9716, "initial_longitude": 77.5946}


def raise_with_pins(anon, pin="1234", duress_pin="9999"):
    body = anon.post("/api/create-sos/", {**VALID_SOS, "cancel_pin": pin, "duress_pin": duress_pin}).json()
    return body, client_for(None, sos_token=body["access_token"])


def cancel(phone, body, pin):
    return phone.post(f"/api/cancel-sos/{body['sos_id']}/", {"pin": pin})


def test_pins_are_stored_hashed(anon):
    body, _ = raise_with_pins(anon)
    sos = SOS.objects.get(pk=body["sos_id"])
    assert sos.cancel_pin_hash and "1234" not in sos.cancel_pin_hash and "9999" not in sos.duress_pin_hash


def test_the_right_pin_cancels(anon):
    body, phone = raise_with_pins(anon)
    response = cancel(phone, body, "1234")
    assert response.status_code == 200 and response.json()["sos"]["status"] == "cancelled"
    assert SOS.objects.get(pk=body["sos_id"]).status == SOS.Status.CANCELLED


def test_without_the_pin_or_with_a_wrong_one_the_sos_stays_open(anon):
    body, phone = raise_with_pins(anon)
    for pin in ("", "0000"):
        response = cancel(phone, body, pin)
        assert response.status_code == 400 and response.json()["code"] == "wrong_pin"
    sos = SOS.objects.get(pk=body["sos_id"])
    assert sos.is_open and sos.pin_failures == 2


def test_after_five_wrong_pins_the_phone_can_no_longer_cancel(anon):
    body, phone = raise_with_pins(anon)
    for _ in range(5):
        cancel(phone, body, "0000")
    locked = cancel(phone, body, "1234")
    assert locked.status_code == 409 and locked.json()["code"] == "pin_locked" and "112" in locked.json()["error"]
    assert SOS.objects.get(pk=body["sos_id"]).is_open


def test_the_duress_pin_answers_exactly_like_a_cancel_but_the_sos_stays_open_and_flagged(anon, dispatcher):
    real, real_phone = raise_with_pins(anon)
    forced, forced_phone = raise_with_pins(anon)
    real_answer = cancel(real_phone, real, "1234").json()
    forced_answer = cancel(forced_phone, forced, "9999").json()

    def shape(answer):
        # Everything but the values that differ between any two SOS (ids, times).
        return {k: v for k, v in answer["sos"].items() if k not in ("id", "sos_id", "room_id", "created_at",
                                                                     "updated_at", "closed_at", "last_located_at")}
    assert forced_answer["status"] == real_answer["status"] == "SOS cancelled"
    assert shape(forced_answer) == shape(real_answer)
    assert forced_answer["sos"]["closed_at"]

    sos = SOS.objects.get(pk=forced["sos_id"])
    assert sos.status == SOS.Status.ACTIVE and sos.under_duress
    assert SOSAuditEntry.objects.filter(sos_request=sos, action="cancelled_under_duress").exists()
    event = OutboxEvent.objects.get(event="sos_updated", payload__action="cancelled_under_duress")
    assert event.payload["duress"] is True and event.payload["sos_id"] == sos.pk
    # Responders only: the SOS's own room (the phone) never hears of it.
    assert event.rooms == ["sos_channel"]

    # The phone's later reads still say cancelled; the dispatcher sees the truth.
    seen_by_phone = forced_phone.get(f"/api/sos/{sos.pk}/").json()
    assert seen_by_phone["status"] == "cancelled" and "duress_at" not in seen_by_phone
    assert [e["action"] for e in seen_by_phone["audit_trail"]] == ["created", "cancelled"]
    seen_by_police = client_for(dispatcher).get(f"/api/sos/{sos.pk}/").json()
    assert seen_by_police["status"] == "active" and seen_by_police["duress_at"]
    # Cancelling again, even with the real PIN, answers the same and leaves it open.
    assert cancel(forced_phone, forced, "1234").json()["sos"]["status"] == "cancelled"
    assert SOS.objects.get(pk=sos.pk).is_open


def test_a_pin_can_be_set_while_the_sos_is_raised_and_changed_only_with_the_current_one(anon):
    body = anon.post("/api/create-sos/", VALID_SOS).json()
    phone = client_for(None, sos_token=body["access_token"])
    url = f"/api/sos/{body['sos_id']}/pin/"
    assert phone.post(url, {"pin": "2468", "duress_pin": "1357"}).status_code == 200
    assert phone.post(url, {"pin": "1111"}).json()["code"] == "wrong_pin"
    assert phone.post(url, {"pin": "1111", "current_pin": "2468"}).status_code == 200
    assert cancel(phone, body, "2468").status_code == 400
    assert cancel(phone, body, "1111").status_code == 200


@pytest.mark.parametrize("pins", [{"cancel_pin": "12a4"}, {"cancel_pin": "123"}, {"cancel_pin": "1234", "duress_pin": "1234"},
                                  {"duress_pin": "9999"}])
def test_bad_pins_are_dropped_and_the_sos_raised_without_them(anon, pins):
    response = anon.post("/api/create-sos/", {**VALID_SOS, **pins})
    assert response.status_code == 201 and response.json()["dropped"]
    assert not SOS.objects.get().duress_pin_hash


def test_someone_elses_token_cannot_set_or_use_a_pin(anon):
    body, _ = raise_with_pins(anon)
    other, other_phone = raise_with_pins(anon)
    # Someone else's token learns nothing: the same answer as for an SOS that does not exist.
    assert other_phone.post(f"/api/sos/{body['sos_id']}/pin/", {"pin": "5555"}).status_code == 404
    assert cancel(other_phone, body, "1234").status_code == 404


def test_an_sos_without_a_pin_cancels_as_the_mobile_app_always_did(anon):
    body = anon.post("/api/create-sos/", VALID_SOS).json()
    phone = client_for(None, sos_token=body["access_token"])
    assert phone.post(f"/api/cancel-sos/{body['sos_id']}/", {"note": "false alarm"}).json()["sos"]["status"] == "cancelled"


def test_a_signed_in_owner_listing_her_alerts_sees_a_duress_cancel_as_a_plain_cancel(citizen, dispatcher):
    # Whoever forced her may hold her signed-in phone: her own list must not give the duress away either.
    mine = client_for(citizen)
    body = mine.post("/api/create-sos/", {**VALID_SOS, "cancel_pin": "1234", "duress_pin": "9999"}).json()
    assert cancel(mine, body, "9999").status_code == 200

    listed = mine.get("/api/sos/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    row = next(row for row in rows if row["id"] == body["sos_id"])
    assert row["status"] == "cancelled" and row["is_open"] is False and "duress_at" not in row
    police_view = client_for(dispatcher).get("/api/sos/").json()["results"]
    assert next(row for row in police_view if row["id"] == body["sos_id"])["duress_at"]
