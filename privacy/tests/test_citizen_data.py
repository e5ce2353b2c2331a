"""A citizen downloads everything held about her (and nobody else's), and can have it deleted, legal holds aside."""

import pytest
from django.urls import reverse

from accounts.models import User
from common.actors import Actor
from naarikavach.testing import PASSWORD, client_for
from privacy import services
from privacy.models import CitizenDeletion, ViewAuditEntry
from privacy.tests.helpers import raise_sos
from sos import services as sos_services
from sos.models import SOS, LocationUpdate

EXPORT = reverse("privacy-my-export")
DELETE = reverse("privacy-my-delete")


@pytest.fixture
def her_sos(citizen, dispatcher):
    citizen.email, citizen.phone = "asha@example.org", "+919811111111"
    citizen.save()
    sos, token = raise_sos(owner=citizen, phone="+919811111111")
    sos_services.sos_location_add(sos_id=sos.pk, latitude=12.98, longitude=77.6, actor=Actor.for_user(citizen))
    sos_services.sos_resolve(sos_id=sos.pk, actor=Actor.for_user(dispatcher))
    return sos


def test_her_export_holds_her_account_contacts_alerts_and_trails_and_nobody_elses(her_sos, citizen, other_citizen):
    theirs, _ = raise_sos(owner=other_citizen, name="Bela", phone="+919822222222")
    anonymous, _ = raise_sos(name="Someone", phone="+919833333333")

    response = client_for(citizen).get(EXPORT)

    assert response.status_code == 200
    data = response.json()
    assert data["account"]["username"] == "asha"
    assert data["contacts"] == {"email": "asha@example.org", "phone": "+919811111111"}
    [alert] = data["sos_alerts"]
    assert alert["sos_id"] == her_sos.pk and alert["status"] == "resolved"
    assert [(p["latitude"], p["longitude"]) for p in alert["trail"]] == [(12.9716, 77.5946), (12.98, 77.6)]
    text = response.content.decode()
    assert "Bela" not in text and "+919822222222" not in text and "+919833333333" not in text
    assert theirs.pk != anonymous.pk


def test_each_export_is_audited_and_anonymous_callers_get_none(her_sos, citizen):
    assert client_for(None).get(EXPORT).status_code == 401
    client_for(citizen).get(EXPORT, REMOTE_ADDR="198.51.100.8")

    [entry] = ViewAuditEntry.objects.filter(action="citizen_export")
    assert (entry.subject_kind, entry.subject_id, entry.ip_address) == ("citizen", str(citizen.pk), "198.51.100.8")


def test_deletion_removes_her_account_and_alerts_and_says_what_was_kept(her_sos, citizen, dispatcher, other_citizen):
    held, _ = raise_sos(owner=citizen)
    sos_services.sos_resolve(sos_id=held.pk, actor=Actor.for_user(dispatcher))
    services.legal_hold_place(subject_kind="sos", subject_id=held.pk, actor=Actor.for_user(dispatcher),
                              reason="Stalking case 3/2026")
    still_open, _ = raise_sos(owner=citizen)
    theirs, _ = raise_sos(owner=other_citizen)

    response = client_for(citizen).post(DELETE, {"current_password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["deleted"] == {"sos_alerts": 1, "trail_points": 2, "camera_evidence_files": 0, "account": 1}
    kept = {item["id"]: item["reason"] for item in body["kept"] if item["kind"] == "sos"}
    assert set(kept) == {held.pk, still_open.pk}
    assert "legal hold" in kept[held.pk] and "Stalking" not in kept[held.pk]
    assert "still open" in kept[still_open.pk]
    assert not User.objects.filter(username="asha").exists()
    assert not SOS.objects.filter(pk=her_sos.pk).exists()
    assert not LocationUpdate.objects.filter(sos_request_id=her_sos.pk).exists()
    assert set(SOS.objects.values_list("pk", flat=True)) == {held.pk, still_open.pk, theirs.pk}
    assert CitizenDeletion.objects.get().deleted["sos_alerts"] == 1


def test_deletion_needs_her_password_and_is_not_for_staff(her_sos, citizen, dispatcher):
    assert client_for(citizen).post(DELETE, {"current_password": "wrong"}).status_code == 400
    assert client_for(dispatcher).post(DELETE, {"current_password": PASSWORD}).status_code == 403
    assert client_for(None).post(DELETE, {"current_password": PASSWORD}).status_code == 401
    assert User.objects.filter(username="asha").exists() and SOS.objects.filter(pk=her_sos.pk).exists()


def test_an_account_something_must_keep_pointing_at_is_emptied_instead(her_sos, citizen, monkeypatch):
    from django.db.models import ProtectedError

    def protected(self, *args, **kwargs):
        raise ProtectedError("referenced", set())

    monkeypatch.setattr(User, "delete", protected)

    body = client_for(citizen).post(DELETE, {"current_password": PASSWORD}).json()

    husk = User.objects.get(pk=citizen.pk)
    assert (husk.username, husk.email, husk.phone, husk.is_active) == (f"deleted-{citizen.pk}", "", "", False)
    assert not husk.has_usable_password()
    assert any(item["kind"] == "account" for item in body["kept"]) and body["deleted"]["account"] == 0
    assert not SOS.objects.filter(pk=her_sos.pk).exists()
