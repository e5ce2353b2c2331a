"""Officers' scope on incidents, as on SOS (docs/security.md): they see every open incident and every
incident of their unit, act only on their unit's or unassigned ones, and assign only their own unit's
officers; dispatchers and admins see and act on all. Every refused call changes nothing."""

import pytest
from django.urls import reverse

from accounts.models import User
from incidents.models import Incident, IncidentAuditEntry
from naarikavach import testing
from naarikavach.testing import client_for
from realtime.models import OutboxEvent

pytestmark = pytest.mark.django_db

PERSONAS = ["officer_a", "colleague_a", "officer_b", "dispatcher", "admin"]


@pytest.fixture
def people(officer_a, officer_b, dispatcher, admin_user, unit_a):
    colleague = testing.make_staff("officer_a2", User.Role.OFFICER, unit_a.unit_number)  # officer_a's unit mate
    users = {"officer_a": officer_a, "colleague_a": colleague, "officer_b": officer_b, "dispatcher": dispatcher,
             "admin": admin_user}
    return users, {name: client_for(user) for name, user in users.items()}


@pytest.fixture
def incidents(beacon, officer_a):
    def make(status, assigned_to=None):
        return Incident.objects.create(kind="violence", beacon=beacon, priority="Critical", status=status,
                                       assigned_to=assigned_to, description=f"{status} {assigned_to}")
    return {
        "open_unassigned": make(Incident.Status.CREATED),
        "open_unit_a": make(Incident.Status.ASSIGNED, officer_a),
        "closed_unit_a": make(Incident.Status.RESOLVED, officer_a),
        "closed_unassigned": make(Incident.Status.RESOLVED),
    }


def snapshot():
    return (list(Incident.objects.order_by("pk").values_list("pk", "status", "assigned_to")),
            IncidentAuditEntry.objects.count(), OutboxEvent.objects.count())


# Reads: 200 / 404 (out of scope reads like a missing incident) ----------------------------------------
#                         officer_a colleague officer_b dispatch admin
SEE = {
    "open_unassigned":   [200, 200, 200, 200, 200],
    "open_unit_a":       [200, 200, 200, 200, 200],
    "closed_unit_a":     [200, 200, 404, 200, 200],
    "closed_unassigned": [404, 404, 404, 200, 200],
}


@pytest.mark.parametrize("which", SEE)
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_sees_which_incident_in_the_list_and_the_detail(people, incidents, which, persona):
    _, clients = people
    expected = SEE[which][PERSONAS.index(persona)]
    incident = incidents[which]
    assert clients[persona].get(reverse("incident-detail", args=[incident.pk])).status_code == expected
    listed = {row["incident_id"] for row in clients[persona].get(reverse("incident-list")).json()["results"]}
    assert (str(incident.pk) in listed) == (expected == 200)


# Changes on the open incidents: 2xx, 403 (another unit's), 409 (not possible in its state) ---------------
#                                          officer_a colleague officer_b dispatch admin
ACT = {
    ("acknowledge", "open_unassigned"):     [200, 200, 200, 200, 200],
    ("acknowledge", "open_unit_a"):         [409, 409, 403, 409, 409],  # already past acknowledged
    ("start", "open_unit_a"):               [200, 200, 403, 200, 200],
    ("resolve", "open_unassigned"):         [200, 200, 200, 200, 200],
    ("resolve", "open_unit_a"):             [200, 200, 403, 200, 200],
    ("assign_self", "open_unassigned"):     [200, 200, 200, 400, 400],  # dispatchers are not officers
    ("assign_self", "open_unit_a"):         [409, 200, 403, 400, 400],
    ("assign_b", "open_unassigned"):        [403, 403, 200, 200, 200],  # officer_b's unit
    ("assign_b", "open_unit_a"):            [403, 403, 403, 200, 200],
    ("resolve", "closed_unassigned"):       [404, 404, 404, 409, 409],
}


def act(client, action, incident, users, persona):
    if action == "assign_self":
        return client.post(reverse("incident-assign", args=[incident.pk]), {"officer": users[persona].username})
    if action == "assign_b":
        return client.post(reverse("incident-assign", args=[incident.pk]), {"officer": users["officer_b"].username})
    body = {"resolution_note": "Handled."} if action == "resolve" else {}
    return client.post(reverse(f"incident-{action}", args=[incident.pk]), body)


@pytest.mark.parametrize(("action", "which"), ACT)
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_act_on_which_incident(people, incidents, action, which, persona):
    users, clients = people
    expected = ACT[(action, which)][PERSONAS.index(persona)]
    before = snapshot()
    response = act(clients[persona], action, incidents[which], users, persona)
    assert response.status_code == expected, response.json()
    if expected == 403:
        assert response.json()["code"] == "other_unit"
    if expected >= 400:
        assert snapshot() == before


# Evidence, nearest units and CAP follow the same reading rule ---------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_evidence_nearest_units_and_cap_of_another_units_closed_incident_read_like_a_missing_one(
        people, device, beacon, officer_a, persona):
    from privacy.tests.helpers import incident_with_image

    incident, image = incident_with_image(device, beacon)
    Incident.objects.filter(pk=incident.pk).update(status=Incident.Status.RESOLVED, assigned_to=officer_a)
    _, clients = people
    expected = SEE["closed_unit_a"][PERSONAS.index(persona)]
    client = clients[persona]
    assert client.get(reverse("incident-image-download", args=[image.pk])).status_code == expected
    assert client.get(reverse("incident-cap", args=[incident.pk])).status_code == expected
    nearest = client.get(reverse("incident-nearest-units", args=[incident.pk])).status_code
    assert (nearest == 404) == (expected == 404)
