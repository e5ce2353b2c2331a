"""Every look at evidence or an SOS trail is recorded once: who, when, what, from where and, unredacted, why."""

import pytest
from django.contrib.admin.sites import site
from django.db import DatabaseError
from django.test import RequestFactory
from django.urls import reverse

from naarikavach.testing import client_for
from privacy import services
from privacy.models import ViewAuditEntry
from privacy.tests.helpers import grant_unredacted, incident_with_image, raise_sos


@pytest.fixture
def evidence(device, beacon):
    incident, image = incident_with_image(device, beacon)
    return incident, image


def download(user, image, **extra):
    return client_for(user).get(reverse("incident-image-download", args=[image.pk]), **extra)


def unredacted(user, image, reason="Identify the attacker for the FIR"):
    return client_for(user).post(reverse("privacy-image-unredacted", args=[image.pk]), {"reason": reason})


def test_an_evidence_download_records_exactly_one_entry_with_who_what_and_where(evidence, officer_a):
    incident, image = evidence

    response = download(officer_a, image, REMOTE_ADDR="203.0.113.7")
    b"".join(response.streaming_content)

    assert response.status_code == 200
    [entry] = ViewAuditEntry.objects.all()
    assert (entry.actor, entry.actor_label) == (officer_a, "officer:officer_a")
    assert (entry.action, entry.delivery) == ("evidence_view", "file")
    assert (entry.subject_kind, entry.subject_id, entry.image_id) == ("incident", str(incident.pk), image.pk)
    assert entry.ip_address == "203.0.113.7"
    assert entry.created_at is not None


def test_a_below_threshold_image_is_audited_under_its_report(device, beacon, dispatcher):
    incident, image = incident_with_image(device, beacon, confidence=0.1)

    download(dispatcher, image)

    [entry] = ViewAuditEntry.objects.all()
    assert incident is None
    assert (entry.subject_kind, entry.subject_id) == ("ai_event", str(image.ai_event_id))


def test_refused_and_failed_downloads_record_nothing(evidence, citizen, officer_a):
    _, image = evidence

    assert download(citizen, image).status_code == 403
    assert download(None, image).status_code == 401
    image.image.storage.delete(image.image.name)
    assert download(officer_a, image).status_code == 404

    assert not ViewAuditEntry.objects.exists()


def test_nothing_is_handed_out_when_the_look_cannot_be_recorded(evidence, officer_a, monkeypatch):
    _, image = evidence

    def audit_down(**record):
        raise DatabaseError("the audit table is unavailable")

    monkeypatch.setattr(services, "view_record", audit_down)
    client = client_for(officer_a)
    client.raise_request_exception = False
    response = client.get(reverse("incident-image-download", args=[image.pk]))

    assert response.status_code >= 500
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert not body.startswith(b"\x89PNG") and image.image.storage.open(image.image.name).read() not in body
    assert not ViewAuditEntry.objects.exists()


def test_an_unredacted_view_needs_the_permission_and_a_reason_and_records_why(evidence, officer_a, dispatcher):
    _, image = evidence

    assert unredacted(officer_a, image).status_code == 403
    grant_unredacted(officer_a)
    assert unredacted(officer_a, image, reason="  ").status_code == 400
    assert not ViewAuditEntry.objects.exists()

    response = unredacted(officer_a, image)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == image.image.storage.open(image.image.name).read()
    [entry] = ViewAuditEntry.objects.all()
    assert (entry.action, entry.reason, entry.actor) == ("evidence_unredacted", "Identify the attacker for the FIR",
                                                         officer_a)


def test_an_sos_trail_read_records_one_entry_for_responders_and_for_the_owner(officer_a, citizen):
    sos, token = raise_sos(owner=citizen)
    url = reverse("sos-detail", args=[sos.pk])

    assert client_for(officer_a).get(url).status_code == 200
    assert client_for(None, sos_token=token).get(url).status_code == 200
    assert client_for(None, sos_token="wrong").get(url).status_code == 404  # a stranger: the same as a missing SOS

    entries = list(ViewAuditEntry.objects.order_by("id"))
    assert [(e.action, e.subject_kind, e.subject_id, e.actor_label) for e in entries] == [
        ("sos_trail_read", "sos", str(sos.pk), "officer:officer_a"),
        ("sos_trail_read", "sos", str(sos.pk), "sos-owner-token"),
    ]


def test_supervisors_see_who_looked_in_the_detail_and_officers_do_not(evidence, officer_a, dispatcher):
    incident, image = evidence
    download(officer_a, image)
    sos, _ = raise_sos()
    client_for(officer_a).get(reverse("sos-detail", args=[sos.pk]))

    incident_detail = client_for(dispatcher).get(reverse("incident-detail", args=[incident.pk])).json()
    sos_detail = client_for(dispatcher).get(reverse("sos-detail", args=[sos.pk])).json()
    officer_view = client_for(officer_a).get(reverse("incident-detail", args=[incident.pk])).json()

    assert [(v["by"], v["action"], v["image_id"]) for v in incident_detail["view_audit"]] == [
        ("officer:officer_a", "evidence_view", image.pk)]
    assert [v["by"] for v in sos_detail["view_audit"]] == ["officer:officer_a", "dispatcher:dispatch"]
    assert "view_audit" not in officer_view


def test_the_address_behind_a_trusted_proxy_is_the_forwarded_one_and_otherwise_never(evidence, officer_a, settings):
    _, image = evidence
    settings.TRUSTED_PROXY_COUNT = 1  # one proxy in front: it appends the address it saw
    download(officer_a, image, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.4")
    settings.TRUSTED_PROXY_COUNT = 0  # none: the header is the client's own words
    download(officer_a, image, REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="198.51.100.4")

    assert list(ViewAuditEntry.objects.order_by("id").values_list("ip_address", flat=True)) == [
        "198.51.100.4", "192.0.2.9"]


def test_the_view_audit_is_read_only_and_filterable_in_admin(evidence, officer_a, admin_user, client):
    _, image = evidence
    download(officer_a, image)
    model_admin = site._registry[ViewAuditEntry]
    request = RequestFactory().get("/")
    request.user = admin_user

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    client.force_login(admin_user)
    listing = client.get(reverse("admin:privacy_viewauditentry_changelist"), {"action": "evidence_view"})
    assert listing.status_code == 200
    assert "officer:officer_a" in listing.content.decode()
    assert "officer:officer_a" not in client.get(reverse("admin:privacy_viewauditentry_changelist"),
                                                  {"action": "sos_trail_read"}).content.decode()


def test_a_look_without_a_usable_peer_address_is_recorded_without_one(citizen):
    from common.actors import Actor
    from privacy.services import view_record

    entry = view_record(actor=Actor.for_user(citizen), action=ViewAuditEntry.Action.CITIZEN_EXPORT,
                        subject_kind=ViewAuditEntry.Subject.CITIZEN, subject_id=citizen.pk,
                        delivery=ViewAuditEntry.Delivery.JSON, ip_address="unknown")
    entry.refresh_from_db()
    assert entry.ip_address is None and entry.actor_label == f"citizen:{citizen.username}"
