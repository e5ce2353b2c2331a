"""Every create from the phone carries an idempotency key: retries and double presses raise one SOS."""

import uuid

import pytest

from naarikavach.testing import client_for
from realtime.models import OutboxEvent
from sos.models import SOS

pytestmark = pytest.mark.django_db

VALID_SOS = {"name": "Asha", "sos_type": 0, "initial_latitude": 12.9716, "initial_longitude": 77.5946}


def test_the_same_key_twice_raises_one_sos_and_answers_the_same_token(anon):
    key = str(uuid.uuid4())
    first = anon.post("/api/create-sos/", VALID_SOS, HTTP_IDEMPOTENCY_KEY=key)
    again = anon.post("/api/create-sos/", VALID_SOS, HTTP_IDEMPOTENCY_KEY=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert SOS.objects.count() == 1
    assert OutboxEvent.objects.filter(event="new_sos").count() == 1
    # The repeated token works: the phone that lost the first answer can follow its alert.
    owner = client_for(None, sos_token=again.json()["access_token"])
    assert owner.get(f"/api/sos/{again.json()['sos_id']}/").status_code == 200


def test_the_key_may_travel_in_the_body_too(anon):
    key = uuid.uuid4().hex
    first = anon.post("/api/create-sos/", {**VALID_SOS, "idempotency_key": key}).json()
    again = anon.post("/api/create-sos/", {**VALID_SOS, "idempotency_key": key}).json()
    assert first == again and SOS.objects.count() == 1


def test_different_keys_are_different_alerts(anon):
    one = anon.post("/api/create-sos/", VALID_SOS, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).json()
    two = anon.post("/api/create-sos/", VALID_SOS, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).json()
    assert one["sos_id"] != two["sos_id"] and one["access_token"] != two["access_token"]


def test_only_the_keys_hash_is_stored(anon):
    key = str(uuid.uuid4())
    anon.post("/api/create-sos/", VALID_SOS, HTTP_IDEMPOTENCY_KEY=key)
    assert key not in SOS.objects.get().idempotency_key_hash


@pytest.mark.parametrize("key", ["short", "has spaces in it here", "x" * 101, "ключ-ключ-ключ-ключ"])
def test_a_malformed_key_is_dropped_and_the_sos_raised_without_it(anon, key):
    response = anon.post("/api/create-sos/", {**VALID_SOS, "idempotency_key": key})
    assert response.status_code == 201
    assert "idempotency_key" in response.json()["dropped"]
    assert SOS.objects.get().idempotency_key_hash is None


def test_a_concurrent_insert_with_the_same_key_answers_the_sos_that_won(anon, monkeypatch):
    """The race: the lookup finds nothing, another request commits the same key, then our insert fails."""
    from sos import services

    key = str(uuid.uuid4())
    winner = anon.post("/api/create-sos/", VALID_SOS, HTTP_IDEMPOTENCY_KEY=key).json()
    looked_up = []

    def not_yet_committed(k):
        looked_up.append(k)
        return None if len(looked_up) == 1 else SOS.objects.get(pk=winner["sos_id"])

    monkeypatch.setattr(services, "sos_by_idempotency_key", not_yet_committed)
    again = anon.post("/api/create-sos/", VALID_SOS, HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201 and again.json() == winner
    assert SOS.objects.count() == 1
