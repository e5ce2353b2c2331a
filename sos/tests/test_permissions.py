"""Who may call each SOS endpoint: anonymous, another citizen, the owner (token or account), officers, dispatchers, admins.

Every refused call is also checked to have changed nothing.
"""

import pytest

from naarikavach.testing import client_for
from realtime.models import OutboxEvent
from sos.models import SOS, LocationUpdate, OfficerAssignment
from sos.tests.conftest import raise_sos

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "other_citizen", "owner_token", "owner_account", "officer_a", "officer_b", "dispatcher", "admin"]


@pytest.fixture
def world(citizen, other_citizen, officer_a, officer_b, dispatcher, admin_user):
    raised = raise_sos(owner=citizen)
    clients = {
        "anonymous": client_for(None),
        "other_citizen": client_for(other_citizen),
        "owner_token": client_for(None, sos_token=raised.token),
        "owner_account": client_for(citizen),
        "officer_a": client_for(officer_a),
        "officer_b": client_for(officer_b),
        "dispatcher": client_for(dispatcher),
        "admin": client_for(admin_user),
    }
    return raised.sos, clients


def snapshot():
    return (
        list(SOS.objects.values_list("id", "status")),
        LocationUpdate.objects.count(),
        OfficerAssignment.objects.count(),
        OutboxEvent.objects.count(),
    )


def call(client, endpoint, sos):
    if endpoint == "update_location":
        return client.post("/api/update-location/", {"sos_request": sos.pk, "latitude": 1.5, "longitude": 2.5})
    if endpoint == "assign":
        return client.post("/api/assign-officer/", {"sos_request": sos.pk, "officer_name": "Rao", "unit_number": "UNIT-A"})
    if endpoint == "acknowledge":
        return client.post(f"/api/sos/{sos.pk}/acknowledge/")
    if endpoint == "resolve":
        return client.post(f"/api/resolve-sos/{sos.pk}/")
    if endpoint == "cancel":
        return client.post(f"/api/cancel-sos/{sos.pk}/")
    if endpoint == "list":
        return client.get("/api/sos/")
    if endpoint == "detail":
        return client.get(f"/api/sos/{sos.pk}/")
    if endpoint == "units":
        return client.get("/api/units/")
    if endpoint == "unit_a_location":
        return client.post("/api/units/UNIT-A/location/", {"latitude": 1.0, "longitude": 2.0})
    raise AssertionError(endpoint)


# 404 where a caller who may not see the SOS asks about it: the same answer as for a missing SOS.
#            anonymous other_cit owner_tok owner_acc officer_a officer_b dispatch admin
MATRIX = {
    "update_location": [401, 404, 201, 201, 201, 201, 201, 201],
    "assign":          [401, 403, 401, 403, 201, 403, 201, 201],  # officer_b may assign only UNIT-B
    "acknowledge":     [401, 403, 401, 403, 200, 200, 200, 200],
    "resolve":         [401, 403, 401, 403, 200, 200, 200, 200],
    "cancel":          [401, 404, 200, 200, 403, 403, 403, 403],
    "list":            [401, 200, 401, 200, 200, 200, 200, 200],
    "detail":          [401, 404, 200, 200, 200, 200, 200, 200],
    "units":           [401, 403, 401, 403, 200, 200, 200, 200],
    "unit_a_location": [401, 403, 401, 403, 201, 403, 201, 201],
}

CASES = [(endpoint, persona, expected) for endpoint, row in MATRIX.items() for persona, expected in zip(PERSONAS, row)]


@pytest.mark.parametrize(("endpoint", "persona", "expected"), CASES, ids=[f"{e}-{p}" for e, p, _ in CASES])
def test_permission_matrix(world, endpoint, persona, expected):
    sos, clients = world
    before = snapshot()
    response = call(clients[persona], endpoint, sos)
    assert response.status_code == expected, response.content
    assert response["Content-Type"].startswith("application/json")
    if expected >= 400:
        body = response.json()
        assert body["error"]
        # A refused read leaks nothing, a refused write changes nothing.
        assert set(body) <= {"error", "code", "fields"}
        assert sos.name not in response.content.decode() and str(sos.room_id) not in response.content.decode()
        assert snapshot() == before


def test_a_citizen_lists_only_their_own_alerts(world, other_citizen):
    sos, clients = world
    raise_sos(owner=other_citizen)
    raise_sos()
    owner_ids = [row["sos_id"] for row in clients["owner_account"].get("/api/sos/").json()["results"]]
    assert owner_ids == [sos.pk]
    assert clients["dispatcher"].get("/api/sos/").json()["count"] == 3


def test_a_token_for_one_sos_opens_no_other(world):
    sos, clients = world
    other = raise_sos()
    response = clients["owner_token"].post("/api/update-location/", {"sos_request": other.sos.pk, "latitude": 1, "longitude": 1})
    assert response.status_code == 404
    assert other.sos.locations.count() == 1


def test_self_registration_always_makes_a_citizen(anon):
    response = anon.post("/auth/users/", {
        "username": "mallory", "password": "a-long-unusual-passphrase", "role": "admin", "is_staff": True,
        "is_superuser": True, "unit": 1,
    })
    assert response.status_code == 201, response.content
    from accounts.models import User

    mallory = User.objects.get(username="mallory")
    assert (mallory.role, mallory.is_staff, mallory.is_superuser, mallory.unit) == ("citizen", False, False, None)


def test_login_returns_a_token_and_me_shows_the_role(anon, officer_a):
    response = anon.post("/auth/token/login/", {"username": "officer_a", "password": "correct-horse-battery-staple"})
    assert response.status_code == 200
    anon.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['auth_token']}")
    me = anon.get("/auth/users/me/").json()
    assert (me["role"], me["unit_number"]) == ("officer", "UNIT-A")
    assert anon.post("/auth/token/logout/").status_code == 204
    assert anon.get("/auth/users/me/").status_code == 401
