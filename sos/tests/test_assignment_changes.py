"""A dispatcher's safe actions: the same unit twice is refused, a unit can be taken off, a responder cancels for
the citizen only with a note."""

import pytest

from accounts.models import Unit
from common.actors import Actor
from naarikavach.testing import client_for
from sos import services
from sos.models import SOS, OfficerAssignment, SOSAuditEntry
from sos.tests.conftest import raise_sos

pytestmark = pytest.mark.django_db


def assign(dispatcher, sos, unit_number="UNIT-A", officer="Insp. Rao"):
    return client_for(dispatcher).post("/api/assign-officer/", {"sos_request": sos.pk, "officer_name": officer,
                                                               "unit_number": unit_number}, format="json")


def test_assigning_a_unit_already_on_the_sos_is_refused_with_a_clear_message(dispatcher, unit_a):
    sos = raise_sos().sos
    assert assign(dispatcher, sos).status_code == 201

    again = assign(dispatcher, sos, officer="SI Banerjee")

    assert again.status_code == 409
    assert again.json()["code"] == "unit_already_assigned"
    assert "UNIT-A is already assigned" in again.json()["error"]
    assert OfficerAssignment.objects.filter(sos_request=sos).count() == 1


def test_unassigning_the_only_unit_takes_the_sos_back_to_acknowledged_and_frees_the_unit(dispatcher, unit_a):
    sos = raise_sos().sos
    assign(dispatcher, sos)
    assignment = OfficerAssignment.objects.get(sos_request=sos)
    assert Unit.objects.get(pk=unit_a.pk).status == Unit.Status.DISPATCHED

    answer = client_for(dispatcher).post(f"/api/sos/{sos.pk}/assignments/{assignment.pk}/unassign/",
                                         {"note": "wrong unit"}, format="json")

    assert answer.status_code == 200, answer.json()
    assert answer.json()["sos"]["status"] == "acknowledged"
    assert not OfficerAssignment.objects.filter(sos_request=sos).exists()
    assert Unit.objects.get(pk=unit_a.pk).status == Unit.Status.AVAILABLE
    entry = SOSAuditEntry.objects.filter(sos_request=sos).latest("created_at")
    assert (entry.action, entry.details["unit_number"], entry.details["note"]) == ("unassigned", "UNIT-A", "wrong unit")
    # And the unit may be sent again.
    assert assign(dispatcher, sos).status_code == 201


def test_unassigning_one_of_two_units_keeps_the_sos_dispatched(dispatcher, unit_a, unit_b):
    sos = raise_sos().sos
    assign(dispatcher, sos)
    assign(dispatcher, sos, unit_number="UNIT-B")
    first = OfficerAssignment.objects.filter(sos_request=sos).first()

    services.sos_unassign(sos_id=sos.pk, assignment_id=first.pk, actor=Actor(user=dispatcher))

    assert SOS.objects.get(pk=sos.pk).status == SOS.Status.DISPATCHED


def test_unassigning_an_unknown_assignment_or_as_a_citizen_changes_nothing(dispatcher, citizen, unit_a):
    sos = raise_sos().sos
    assign(dispatcher, sos)
    assignment = OfficerAssignment.objects.get(sos_request=sos)

    missing = client_for(dispatcher).post(f"/api/sos/{sos.pk}/assignments/{assignment.pk + 99}/unassign/", {},
                                          format="json")
    stranger = client_for(citizen).post(f"/api/sos/{sos.pk}/assignments/{assignment.pk}/unassign/", {}, format="json")

    assert missing.status_code == 404 and "error" in missing.json()
    assert stranger.status_code == 403
    assert OfficerAssignment.objects.filter(sos_request=sos).count() == 1


def test_a_responder_cancels_for_the_citizen_only_with_a_note(dispatcher):
    sos = raise_sos().sos
    client = client_for(dispatcher)

    blank = client.post(f"/api/sos/{sos.pk}/cancel-on-behalf/", {"note": "  "}, format="json")
    assert blank.status_code == 400 and "note" in blank.json()["fields"]
    assert SOS.objects.get(pk=sos.pk).is_open

    done = client.post(f"/api/sos/{sos.pk}/cancel-on-behalf/", {"note": "She called: safe at home"}, format="json")

    assert done.status_code == 200, done.json()
    assert done.json()["sos"]["status"] == "cancelled"
    entry = SOSAuditEntry.objects.filter(sos_request=sos).latest("created_at")
    assert (entry.action, entry.details["note"]) == ("cancelled_on_behalf", "She called: safe at home")


def test_an_sos_cancelled_under_duress_cannot_be_cancelled_on_behalf(dispatcher):
    raised = raise_sos()
    owner = Actor.from_credentials(sos_token=raised.token)
    services.sos_pin_set(sos_id=raised.sos.pk, actor=owner, pin="1234", duress_pin="9999")
    services.sos_cancel(sos_id=raised.sos.pk, actor=owner, pin="9999")

    answer = client_for(dispatcher).post(f"/api/sos/{raised.sos.pk}/cancel-on-behalf/", {"note": "called"}, format="json")

    assert answer.status_code == 409 and answer.json()["code"] == "under_duress"
    assert SOS.objects.get(pk=raised.sos.pk).is_open


def test_the_citizen_cannot_cancel_on_her_own_behalf_through_the_responders_door(citizen_sos):
    answer = client_for(sos_token=citizen_sos.token).post(f"/api/sos/{citizen_sos.sos.pk}/cancel-on-behalf/",
                                                          {"note": "x"}, format="json")
    assert answer.status_code in (401, 403)
    assert SOS.objects.get(pk=citizen_sos.sos.pk).is_open
