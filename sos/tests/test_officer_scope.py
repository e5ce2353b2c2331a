"""Officers' scope (docs/security.md): every open alert and their unit's; acting only on their unit's or
unassigned alerts; a victim's phone number once the alert is their unit's. Dispatchers see and do all."""

import pytest

from common.actors import Actor
from realtime_server.joins import JoinRefused, sos_room_target
from sos import services
from sos.models import SOS
from sos.tests.conftest import raise_sos

pytestmark = pytest.mark.django_db


def _assign(sos, unit_number, dispatcher):
    services.sos_assign(sos_id=sos.pk, officer_name="Rao", unit_number=unit_number, actor=Actor.for_user(dispatcher))


@pytest.fixture
def alerts(dispatcher, unit_a, unit_b):
    open_a = raise_sos(name="Open for A").sos
    _assign(open_a, "UNIT-A", dispatcher)
    closed_a = raise_sos(name="Closed for A").sos
    _assign(closed_a, "UNIT-A", dispatcher)
    services.sos_resolve(sos_id=closed_a.pk, actor=Actor.for_user(dispatcher))
    unassigned = raise_sos(name="Nobody yet").sos
    for sos in (open_a, closed_a, unassigned):
        SOS.objects.filter(pk=sos.pk).update(phone="+91 98450 00000")
    return {"open_a": open_a, "closed_a": closed_a, "unassigned": unassigned}


def _listed(client):
    return {row["name"]: row["phone"] for row in client.get("/api/sos/").json()["results"]}


def test_officers_list_open_alerts_and_their_units_with_phones_only_for_their_unit(
    client_for, alerts, officer_a, officer_b, dispatcher
):
    assert _listed(client_for(officer_a)) == {
        "Open for A": "+91 98450 00000", "Closed for A": "+91 98450 00000", "Nobody yet": ""}
    assert _listed(client_for(officer_b)) == {"Open for A": "", "Nobody yet": ""}
    assert set(_listed(client_for(dispatcher)).values()) == {"+91 98450 00000"}


def test_an_officer_cannot_open_another_units_closed_alert(client_for, alerts, officer_a, officer_b):
    path = f"/api/sos/{alerts['closed_a'].pk}/"
    assert client_for(officer_a).get(path).status_code == 200
    refused = client_for(officer_b).get(path)
    assert (refused.status_code, refused.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "location"])
def test_an_officer_acts_only_on_their_units_or_unassigned_alerts(client_for, alerts, officer_a, officer_b, action):
    def act(client, sos):
        if action == "acknowledge":
            return client.post(f"/api/sos/{sos.pk}/acknowledge/")
        if action == "resolve":
            return client.post(f"/api/resolve-sos/{sos.pk}/")
        return client.post("/api/update-location/", {"sos_request": sos.pk, "latitude": 12.9, "longitude": 77.5})

    refused = act(client_for(officer_b), alerts["open_a"])
    assert (refused.status_code, refused.json()["code"]) == (403, "other_unit")
    assert SOS.objects.get(pk=alerts["open_a"].pk).status == SOS.Status.DISPATCHED
    assert act(client_for(officer_b), alerts["unassigned"]).status_code in {200, 201}
    if action != "acknowledge":  # A dispatched SOS is past acknowledging.
        assert act(client_for(officer_a), alerts["open_a"]).status_code in {200, 201}


def test_an_officer_assigns_only_their_own_unit(client_for, alerts, officer_a):
    body = {"sos_request": alerts["unassigned"].pk, "officer_name": "Meera"}
    other = client_for(officer_a).post("/api/assign-officer/", {**body, "unit_number": "UNIT-B"})
    assert (other.status_code, other.json()["code"]) == (403, "other_unit")
    assert client_for(officer_a).post("/api/assign-officer/", {**body, "unit_number": "UNIT-A"}).status_code == 201


def test_an_officer_joins_the_room_of_an_alert_in_scope_only(alerts, officer_a, officer_b, dispatcher):
    room = {"room_id": str(alerts["closed_a"].room_id)}
    assert sos_room_target(Actor.for_user(officer_a), room).sos_id == alerts["closed_a"].pk
    assert sos_room_target(Actor.for_user(dispatcher), room).sos_id == alerts["closed_a"].pk
    with pytest.raises(JoinRefused):
        sos_room_target(Actor.for_user(officer_b), room)
    assert sos_room_target(Actor.for_user(officer_b), {"room_id": str(alerts["open_a"].room_id)})
