"""Retention: the purge removes exactly what has expired, keeps what is on legal hold, and minimises anonymous SOS."""

import io
from datetime import timedelta

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from common.actors import Actor
from common.audit import AuditChainHead
from incidents import services as incident_services
from incidents.models import AIEvent, Incident, IncidentImage, IncidentSignal
from naarikavach.testing import client_for
from privacy import services
from privacy.models import LegalHold, RetentionRun, SOSMinimisation, ViewAuditEntry
from privacy.retention import retention_policy, retention_purge
from privacy.tests.helpers import incident_with_image, raise_sos
from realtime.models import OutboxEvent
from sos import services as sos_services
from sos.models import SOS, LocationUpdate

DAY = timedelta(days=1)


def resolved_incident(device, beacon, dispatcher, *, days_ago: float):
    incident, image = incident_with_image(device, beacon)
    incident_services.incident_resolve(incident_id=incident.pk, actor=Actor.for_user(dispatcher),
                                       resolution_note="Handled")
    Incident.objects.filter(pk=incident.pk).update(resolved_at=timezone.now() - days_ago * DAY)
    return incident, image


def below_threshold(device, beacon, *, days_ago: float):
    _, image = incident_with_image(device, beacon, confidence=0.1)
    AIEvent.objects.filter(pk=image.ai_event_id).update(received_at=timezone.now() - days_ago * DAY)
    return image


def closed_sos(dispatcher, *, days_ago: float, owner=None, phone="+919800000001", points=()):
    sos, token = raise_sos(owner=owner, phone=phone)
    for lat, lng in points:
        sos_services.sos_location_add(sos_id=sos.pk, latitude=lat, longitude=lng,
                                      actor=Actor.from_credentials(sos_token=token))
    sos_services.sos_resolve(sos_id=sos.pk, actor=Actor.for_user(dispatcher))
    SOS.objects.filter(pk=sos.pk).update(closed_at=timezone.now() - days_ago * DAY)
    return sos


def file_exists(image) -> bool:
    return image.image.storage.exists(image.image.name)


def hold(dispatcher, kind, subject_id, reason="Case 7/2026 pending in court"):
    return services.legal_hold_place(subject_kind=kind, subject_id=subject_id, actor=Actor.for_user(dispatcher),
                                     reason=reason)


def test_the_policy_has_safe_defaults_and_settings_override_them(settings):
    settings.PRIVACY_RETENTION_DAYS = {"closed_sos": 90}

    policy = retention_policy()

    assert policy["closed_sos"] == 90
    assert policy["below_threshold_reports"] == 30 and policy["view_audit"] == 1095


def test_below_threshold_reports_and_their_files_go_after_their_period_and_no_sooner(device, beacon):
    old, recent = below_threshold(device, beacon, days_ago=31), below_threshold(device, beacon, days_ago=29)

    run = retention_purge()

    assert not AIEvent.objects.filter(pk=old.ai_event_id).exists() and not file_exists(old)
    assert IncidentImage.objects.filter(pk=recent.pk).exists() and file_exists(recent)
    assert (run.counts["ai_reports"], run.counts["evidence_files"]) == (1, 1)


def test_closed_incidents_go_with_their_evidence_reports_and_audit_open_ones_stay(device, beacon, dispatcher):
    old, old_image = resolved_incident(device, beacon, dispatcher, days_ago=731)
    kept, kept_image = resolved_incident(device, beacon, dispatcher, days_ago=700)
    opened, open_image = incident_with_image(device, beacon)
    Incident.objects.filter(pk=opened.pk).update(created_at=timezone.now() - 2000 * DAY)
    client_for(dispatcher).get(reverse("incident-image-download", args=[old_image.pk]))  # a derivative to delete

    run = retention_purge(batch_size=1)

    assert not Incident.objects.filter(pk=old.pk).exists()
    assert not file_exists(old_image) and not old_image.image.storage.exists(f"redacted/{old_image.image.name[:-4]}.png")
    assert not AIEvent.objects.filter(pk=old_image.ai_event_id).exists()
    assert not AuditChainHead.objects.filter(chain=f"incidents.incidentauditentry:{old.pk}").exists()
    assert set(Incident.objects.values_list("pk", flat=True)) == {kept.pk, opened.pk}
    assert file_exists(kept_image) and file_exists(open_image)
    assert run.counts["closed_incidents"] == 1


def test_closed_sos_go_after_their_period_open_ones_never(dispatcher):
    old = closed_sos(dispatcher, days_ago=731)
    recent = closed_sos(dispatcher, days_ago=10)
    still_open, _ = raise_sos()
    SOS.objects.filter(pk=still_open.pk).update(created_at=timezone.now() - 5000 * DAY)

    retention_purge()

    assert set(SOS.objects.values_list("pk", flat=True)) == {recent.pk, still_open.pk}
    assert not LocationUpdate.objects.filter(sos_request_id=old.pk).exists()
    call_command("verify_audit_chain", stdout=io.StringIO())


def test_a_legal_hold_keeps_an_incident_its_evidence_and_the_sos_that_fed_it(device, beacon, dispatcher):
    incident, image = resolved_incident(device, beacon, dispatcher, days_ago=5000)
    sos = closed_sos(dispatcher, days_ago=5000, points=[(12.98, 77.60), (12.99, 77.61)])
    IncidentSignal.objects.create(incident=incident, signal_type="SOS", sos=sos)
    hold(dispatcher, "incident", incident.pk)

    retention_purge()

    assert Incident.objects.filter(pk=incident.pk).exists() and file_exists(image)
    assert AIEvent.objects.filter(pk=image.ai_event_id).exists()
    sos.refresh_from_db()
    assert sos.phone == "+919800000001" and LocationUpdate.objects.filter(sos_request=sos).count() == 3
    assert not SOSMinimisation.objects.exists()


def test_a_released_hold_lets_the_purge_proceed(device, beacon, dispatcher):
    incident, _ = resolved_incident(device, beacon, dispatcher, days_ago=5000)
    placed = hold(dispatcher, "incident", incident.pk)
    services.legal_hold_release(hold_id=placed.pk, actor=Actor.for_user(dispatcher), reason="Case closed")

    retention_purge()

    assert not Incident.objects.filter(pk=incident.pk).exists()


def test_holds_are_placed_by_supervisors_with_a_reason_and_go_into_the_subjects_trail(dispatcher, officer_a):
    sos, _ = raise_sos()
    url = reverse("privacy-hold-list")

    assert client_for(officer_a).post(url, {"subject_kind": "sos", "subject_id": sos.pk,
                                            "reason": "x"}).status_code == 403
    assert client_for(dispatcher).post(url, {"subject_kind": "sos", "subject_id": sos.pk,
                                             "reason": ""}).status_code == 400
    assert client_for(dispatcher).post(url, {"subject_kind": "incident", "subject_id": "nope",
                                             "reason": "x"}).status_code == 400
    assert client_for(dispatcher).post(url, {"subject_kind": "sos", "subject_id": 99999,
                                             "reason": "x"}).status_code == 404
    assert not LegalHold.objects.exists()
    response = client_for(dispatcher).post(url, {"subject_kind": "sos", "subject_id": sos.pk, "reason": "FIR 12"})

    assert response.status_code == 201
    assert sos.audit_trail.order_by("-id").first().details == {"hold_id": response.json()["id"], "reason": "FIR 12"}
    release = client_for(dispatcher).post(reverse("privacy-hold-release", args=[response.json()["id"]]),
                                          {"reason": "Case closed"})
    assert release.status_code == 200 and release.json()["released_at"]
    assert client_for(dispatcher).post(reverse("privacy-hold-release", args=[response.json()["id"]]),
                                       {"reason": "again"}).status_code == 409


def test_a_closed_anonymous_sos_is_minimised_after_its_period(dispatcher, citizen, settings):
    settings.PRIVACY_MINIMISED_TRAIL_SPACING_M = 250
    # About 110 m apart along a meridian: 0.001 degrees of latitude.
    walk = [(12.9716 + 0.001 * step, 77.5946) for step in range(1, 11)]
    anonymous = closed_sos(dispatcher, days_ago=31, points=walk)
    recent = closed_sos(dispatcher, days_ago=29, points=walk)
    signed_in = closed_sos(dispatcher, days_ago=31, owner=citizen, points=walk)
    still_open, _ = raise_sos(phone="+919800000009")
    SOS.objects.filter(pk=still_open.pk).update(created_at=timezone.now() - 400 * DAY)

    run = retention_purge()

    anonymous.refresh_from_db()
    trail = list(LocationUpdate.objects.filter(sos_request=anonymous).order_by("recorded_at", "id"))
    assert (anonymous.phone, anonymous.name) == ("", "Anonymous")
    # First (the raise), then every third point (~330 m on), then the last one.
    assert [round(p.latitude, 4) for p in trail] == [12.9716, 12.9746, 12.9776, 12.9806, 12.9816]
    assert anonymous.audit_trail.order_by("-id").first().action == "minimised"
    for untouched in (recent, signed_in):
        untouched.refresh_from_db()
        assert untouched.phone == "+919800000001"
        assert LocationUpdate.objects.filter(sos_request=untouched).count() == 11
    assert SOS.objects.get(pk=still_open.pk).phone == "+919800000009"
    assert run.counts["sos_minimised"] == 1
    call_command("verify_audit_chain", stdout=io.StringIO())


def test_old_trails_keep_only_their_first_and_last_points(dispatcher, citizen):
    sos = closed_sos(dispatcher, days_ago=181, owner=citizen, points=[(13.0, 77.6), (13.1, 77.7), (13.2, 77.8)])

    retention_purge()

    assert [p.latitude for p in LocationUpdate.objects.filter(sos_request=sos).order_by("recorded_at", "id")] == [
        12.9716, 13.2]


def test_old_view_audit_goes_and_the_chain_still_verifies(dispatcher, officer_a):
    sos, _ = raise_sos()
    for _ in range(3):
        services.sos_trail_read_record(sos_id=sos.pk, actor=Actor.for_user(officer_a), ip_address=None)
    first, second, third = ViewAuditEntry.objects.order_by("chain_seq")
    ViewAuditEntry.objects.filter(pk__in=[first.pk, second.pk]).update(created_at=timezone.now() - 1100 * DAY)
    # The update above is the platform's own (a test's shortcut for age), so re-seal those two rows.
    _reseal([first.pk, second.pk])

    run = retention_purge()

    assert list(ViewAuditEntry.objects.values_list("pk", flat=True)) == [third.pk]
    assert run.counts["view_audit_entries"] == 2
    assert "All audit chains verify" in _verify()


def test_old_outbox_events_go(dispatcher, settings):
    raise_sos()
    OutboxEvent.objects.update(created_at=timezone.now() - 4 * DAY)
    raise_sos()

    run = retention_purge()

    assert run.counts["outbox_events"] == 1 and OutboxEvent.objects.count() == 1


def test_a_run_records_counts_and_nothing_else(device, beacon):
    below_threshold(device, beacon, days_ago=40)

    out = io.StringIO()
    call_command("purge_expired_data", "--batch-size", "10", stdout=out)

    run = RetentionRun.objects.get()
    assert run.finished_at is not None
    assert all(isinstance(value, int) for value in run.counts.values())
    assert run.counts["ai_reports"] == 1 and "ai_reports: 1" in out.getvalue()


def _verify() -> str:
    out = io.StringIO()
    call_command("verify_audit_chain", stdout=out)
    return out.getvalue()


def _reseal(ids) -> None:
    """Recompute the chain from its first entry, as if the rows had been written at their new times."""
    from common.audit import GENESIS_HASH

    entries = list(ViewAuditEntry.objects.order_by("chain_seq"))
    prev = GENESIS_HASH
    for entry in entries:
        entry.prev_hash = prev
        entry.entry_hash = entry.compute_hash()
        ViewAuditEntry.objects.filter(pk=entry.pk).update(prev_hash=entry.prev_hash, entry_hash=entry.entry_hash)
        prev = entry.entry_hash
    AuditChainHead.objects.filter(chain=entries[0].chain).update(last_hash=prev)


def test_rows_of_files_that_could_not_be_deleted_are_kept_for_the_next_run(device, beacon, monkeypatch):
    image = below_threshold(device, beacon, days_ago=40)
    storage_class = type(image.image.storage._wrapped)

    def unreachable(self, name):
        raise OSError("storage unreachable")

    monkeypatch.setattr(storage_class, "delete", unreachable)
    run = retention_purge()

    assert AIEvent.objects.filter(pk=image.ai_event_id).exists() and file_exists(image)
    assert (run.counts["file_errors"], run.counts["ai_reports"]) == (1, 0)
    monkeypatch.undo()
    assert retention_purge().counts["ai_reports"] == 1


def test_a_hold_placed_while_the_purge_runs_is_honoured_from_the_next_batch(device, beacon, dispatcher, monkeypatch):
    from privacy import retention

    first, _ = resolved_incident(device, beacon, dispatcher, days_ago=5000)
    second, second_image = resolved_incident(device, beacon, dispatcher, days_ago=5000)
    real_delete_files = retention._delete_files
    placed = []

    def hold_the_other_one_meanwhile(images):
        if not placed:
            other = second if images[0].incident_id == first.pk else first
            placed.append(hold(dispatcher, "incident", other.pk))
        return real_delete_files(images)

    monkeypatch.setattr(retention, "_delete_files", hold_the_other_one_meanwhile)
    retention_purge(batch_size=1)

    [kept] = Incident.objects.all()
    assert str(kept.pk) == placed[0].subject_id
    assert IncidentImage.objects.filter(incident=kept).count() == 1
