"""Retention: what expires when (settings.PRIVACY_RETENTION_DAYS), legal holds, and the purge itself.

`retention_purge` is the one entry point (the `purge_expired_data` command, and the platform's background
scheduler daily). It works in batches, each in its own short transaction, so that SOS alerts never wait
long for the database; it deletes evidence files (local or GCS) before their rows, and keeps the rows of
any file it could not delete, to try again next time. It records counts, never contents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.actors import Actor
from common.audit import AuditChainHead
from common.geo import distance_km
from incidents.models import AIEvent, Incident, IncidentImage, IncidentSignal
from privacy.models import LegalHold, RedactedImage, RetentionRun, SOSMinimisation, ViewAuditEntry
from realtime.services import outbox_prune
from sos.models import SOS, LocationUpdate, SOSAuditEntry

# Safe defaults: any kind a deployment leaves out keeps these.
DEFAULT_RETENTION_DAYS = {
    "below_threshold_reports": 30,
    "closed_incidents": 730,
    "closed_sos": 730,
    "sos_trails": 180,
    "anonymous_sos_contact": 30,
    "view_audit": 1095,
    "camera_snapshots": 30,
}
SYSTEM_ACTOR_LABEL = "system:retention"


class _System(Actor):
    """The purge, as the audit trail names it."""

    @property
    def label(self) -> str:
        return SYSTEM_ACTOR_LABEL


def retention_policy() -> dict[str, int]:
    """Days per kind of data (0: kept for ever), from settings over the safe defaults."""
    configured = getattr(settings, "PRIVACY_RETENTION_DAYS", {}) or {}
    unknown = set(configured) - set(DEFAULT_RETENTION_DAYS)
    if unknown:
        raise ImproperlyConfigured(f"PRIVACY_RETENTION_DAYS: unknown kinds {sorted(unknown)}")
    policy = {**DEFAULT_RETENTION_DAYS, **configured}
    for kind, days in policy.items():
        if not isinstance(days, int) or days < 0:
            raise ImproperlyConfigured(f"PRIVACY_RETENTION_DAYS[{kind!r}] must be a whole number of days, 0 or more")
    return policy


# Legal holds --------------------------------------------------------------------------------------


def held_ids() -> tuple[set[int], set[str]]:
    """(SOS ids, incident ids) under an active hold, each with what is attached to it through signals."""
    active = LegalHold.objects.filter(released_at__isnull=True)
    sos_ids = {int(i) for i in active.filter(subject_kind="sos").values_list("subject_id", flat=True)}
    incident_ids = set(active.filter(subject_kind="incident").values_list("subject_id", flat=True))
    linked = IncidentSignal.objects.filter(Q(sos_id__in=sos_ids) | Q(incident_id__in=incident_ids)).exclude(
        sos_id__isnull=True).values_list("sos_id", "incident_id")
    for sos_id, incident_id in linked:
        sos_ids.add(sos_id)
        incident_ids.add(str(incident_id))
    return sos_ids, incident_ids


def is_held(*, subject_kind: str, subject_id) -> bool:
    sos_ids, incident_ids = held_ids()
    return (int(subject_id) in sos_ids) if subject_kind == "sos" else (str(subject_id) in incident_ids)


# The purge ----------------------------------------------------------------------------------------


def delete_stored_files(storage, names) -> bool:
    """Delete `names` (blank ones skipped) from `storage`, local or GCS; False if any could not be deleted."""
    try:
        for name in names:
            if name:
                storage.delete(name)
    except Exception:  # storage unreachable: the caller keeps the rows, to try again on the next run
        return False
    return True


def _delete_files(images) -> set[int]:
    """Delete the files of `images` and their blurred derivatives; returns the ids whose files could not be."""
    failed = set()
    for image in images:
        names = [image.image.name]
        names += list(RedactedImage.objects.filter(image=image).values_list("file", flat=True))
        if not delete_stored_files(image.image.storage, names):
            failed.add(image.pk)
    return failed


# Evidence other apps keep ---------------------------------------------------------------------------
# Apps that keep evidence of their own (cameras) depend on this one, not the other way round: they register
# here, when Django starts (their AppConfig.ready), what the purge must also remove.


@dataclass(frozen=True)
class StoredFiles:
    """The files of one row another app keeps: what the purge deletes before the row goes."""

    sos_id: int | None
    storage: object
    names: list[str]


@dataclass(frozen=True)
class SOSAttachedFiles:
    """Rows another app keeps for an SOS that go with it (cascade), and whose files must go first.

    `files(sos_ids)` lists them; `count` names the run's count of rows whose files were deleted."""

    count: str
    files: Callable[[list[int]], list[StoredFiles]]


@dataclass(frozen=True)
class PurgeStep:
    """A purge of another app's data with its own retention kind (days in PRIVACY_RETENTION_DAYS).

    `purge(cutoff=, batch_size=, counts=)` removes what is older than the cutoff and adds to `counts`,
    whose keys it declares in `counts_keys`."""

    kind: str
    counts_keys: tuple[str, ...]
    purge: Callable[..., None]


_sos_attached: dict[str, SOSAttachedFiles] = {}
_purge_steps: dict[str, PurgeStep] = {}


def register_sos_attached_files(source: SOSAttachedFiles) -> None:
    _sos_attached[source.count] = source


def register_purge_step(step: PurgeStep) -> None:
    if step.kind not in DEFAULT_RETENTION_DAYS:
        raise ImproperlyConfigured(f"Retention kind {step.kind!r} has no default in privacy.retention")
    _purge_steps[step.kind] = step


def sos_attached_counts() -> dict[str, int]:
    """A zero count for each kind of file other apps keep with an SOS, so that every run reports them all."""
    return {source.count: 0 for source in _sos_attached.values()}


def sos_attached_files_delete(sos_ids, counts: dict) -> set[int]:
    """Delete the files other apps keep for these SOS; returns the SOS whose files could not all be deleted
    (they must stay, with their rows, for the next run)."""
    blocked = set()
    for source in _sos_attached.values():
        for stored in source.files(list(sos_ids)):
            if delete_stored_files(stored.storage, stored.names):
                counts[source.count] = counts.get(source.count, 0) + 1
            else:
                counts["file_errors"] = counts.get("file_errors", 0) + 1
                blocked.add(stored.sos_id)
    return blocked


def pk_batches(queryset, batch_size: int):
    """Primary keys of `queryset` in batches; keys yielded once are not yielded again."""
    done: set = set()
    while True:
        batch = list(queryset.exclude(pk__in=done).values_list("pk", flat=True)[:batch_size])
        if not batch:
            return
        done.update(batch)
        yield batch


def _purge_reports(ids, counts) -> None:
    """Delete AI reports with their images (files first)."""
    images = list(IncidentImage.objects.filter(ai_event_id__in=ids))
    failed = _delete_files(images)
    keep = set(IncidentImage.objects.filter(pk__in=failed).values_list("ai_event_id", flat=True))
    with transaction.atomic():
        counts["evidence_files"] += len(images) - len(failed)
        counts["file_errors"] += len(failed)
        counts["ai_reports"] += AIEvent.objects.filter(pk__in=set(ids) - keep).delete()[1].get("incidents.AIEvent", 0)


def _purge_below_threshold(cutoff, batch_size, counts) -> None:
    expired = AIEvent.objects.filter(outcome=AIEvent.Outcome.LOGGED_ONLY, incident__isnull=True,
                                     received_at__lt=cutoff)
    for batch in pk_batches(expired, batch_size):
        _purge_reports(batch, counts)


def _purge_incidents(cutoff, batch_size, counts, held_incidents) -> None:
    expired = Incident.objects.filter(status=Incident.Status.RESOLVED, resolved_at__lt=cutoff).exclude(
        pk__in=held_incidents)
    for batch in pk_batches(expired, batch_size):
        # Holds are read again for every batch: one placed while the purge runs is honoured from the next batch.
        batch = [pk for pk in batch if str(pk) not in held_ids()[1]]
        reports = list(AIEvent.objects.filter(incident_id__in=batch).values_list("pk", flat=True))
        images = list(IncidentImage.objects.filter(incident_id__in=batch))
        failed = _delete_files(images)
        blocked = set(IncidentImage.objects.filter(pk__in=failed).values_list("incident_id", flat=True))
        with transaction.atomic():
            doomed = [pk for pk in batch if pk not in blocked]
            counts["evidence_files"] += len(images) - len(failed)
            counts["file_errors"] += len(failed)
            counts["ai_reports"] += AIEvent.objects.filter(pk__in=reports, incident_id__in=doomed).delete()[1].get(
                "incidents.AIEvent", 0)
            counts["closed_incidents"] += Incident.objects.filter(pk__in=doomed).delete()[1].get(
                "incidents.Incident", 0)
            AuditChainHead.objects.filter(chain__in=[f"incidents.incidentauditentry:{pk}" for pk in doomed]).delete()


def _purge_sos(cutoff, batch_size, counts, held_sos) -> None:
    expired = SOS.objects.filter(status__in=[SOS.Status.RESOLVED, SOS.Status.CANCELLED], closed_at__lt=cutoff).exclude(
        pk__in=held_sos)
    for batch in pk_batches(expired, batch_size):
        batch = [pk for pk in batch if pk not in held_ids()[0]]
        blocked = sos_attached_files_delete(batch, counts)
        batch = [pk for pk in batch if pk not in blocked]
        with transaction.atomic():
            deleted = SOS.objects.filter(pk__in=batch).delete()[1]
            counts["closed_sos"] += deleted.get("sos.SOS", 0)
            counts["sos_trail_points"] += deleted.get("sos.LocationUpdate", 0)
            AuditChainHead.objects.filter(chain__in=[f"sos.sosauditentry:{pk}" for pk in batch]).delete()


def _closed_sos(cutoff, held_sos):
    return SOS.objects.filter(status__in=[SOS.Status.RESOLVED, SOS.Status.CANCELLED], closed_at__lt=cutoff).exclude(
        pk__in=held_sos)


def _thin_trails(cutoff, batch_size, counts, held_sos) -> None:
    """Trails of SOS closed long ago: only the first and last points are kept."""
    for batch in pk_batches(_closed_sos(cutoff, held_sos), batch_size):
        with transaction.atomic():
            for sos_id in batch:
                points = list(LocationUpdate.objects.filter(sos_request_id=sos_id).order_by("recorded_at", "id")
                              .values_list("pk", flat=True))
                if len(points) > 2:
                    counts["sos_trail_points"] += LocationUpdate.objects.filter(pk__in=points[1:-1]).delete()[0]


def thinned(points: list, *, spacing_m: float) -> list:
    """The first and last points, and those at least `spacing_m` from the last one kept."""
    if len(points) <= 2:
        return list(points)
    kept = [points[0]]
    for point in points[1:-1]:
        if distance_km(kept[-1].latitude, kept[-1].longitude, point.latitude, point.longitude) * 1000 >= spacing_m:
            kept.append(point)
    kept.append(points[-1])
    return kept


def _minimise(cutoff, batch_size, counts, held_sos, now) -> None:
    """Closed anonymous SOS: trail thinned, phone and name removed; recorded in its audit trail."""
    spacing = settings.PRIVACY_MINIMISED_TRAIL_SPACING_M
    due = _closed_sos(cutoff, held_sos).filter(owner__isnull=True, minimisation__isnull=True)
    for batch in pk_batches(due, batch_size):
        for sos_id in batch:
            with transaction.atomic():
                sos = SOS.objects.select_for_update().get(pk=sos_id)
                points = list(LocationUpdate.objects.filter(sos_request=sos).order_by("recorded_at", "id"))
                kept = {p.pk for p in thinned(points, spacing_m=spacing)}
                removed = LocationUpdate.objects.filter(sos_request=sos).exclude(pk__in=kept).delete()[0]
                sos.phone, sos.name = "", "Anonymous"
                sos.save(update_fields=["phone", "name", "updated_at"])
                SOSMinimisation.objects.create(sos=sos, minimised_at=now, points_before=len(points),
                                               points_after=len(points) - removed)
                SOSAuditEntry.record(sos, action="minimised", actor=_System(),
                                     details={"points_before": len(points), "points_after": len(points) - removed})
                counts["sos_minimised"] += 1
                counts["sos_trail_points"] += removed


def _purge_view_audit(cutoff, counts) -> None:
    """Looks recorded before the cutoff; each chain keeps verifying from the last purged entry's hash."""
    chains = (ViewAuditEntry.objects.filter(created_at__lt=cutoff).values_list("chain", flat=True)
              .distinct().order_by("chain"))
    for chain in list(chains):
        with transaction.atomic():
            head = AuditChainHead.lock(chain)
            if head is None:
                continue
            last = (ViewAuditEntry.objects.filter(chain=chain, created_at__lt=cutoff).order_by("-chain_seq")
                    .values_list("chain_seq", "entry_hash").first())
            if last is None:
                continue
            counts["view_audit_entries"] += ViewAuditEntry.objects.filter(chain=chain, chain_seq__lte=last[0]).delete()[0]
            head.base_seq, head.base_hash = last
            head.save(update_fields=["base_seq", "base_hash", "updated_at"])


def retention_purge(*, now: datetime | None = None, batch_size: int | None = None) -> RetentionRun:
    """Remove everything whose retention has passed and that no legal hold keeps; returns the run with its counts."""
    now = now or timezone.now()
    batch_size = batch_size or settings.PRIVACY_PURGE_BATCH_SIZE
    policy = retention_policy()
    run = RetentionRun.objects.create(started_at=now)
    counts = {key: 0 for key in ("ai_reports", "evidence_files", "file_errors", "closed_incidents", "closed_sos",
                                 "sos_trail_points", "sos_minimised", "view_audit_entries", "outbox_events")}
    counts |= sos_attached_counts()
    counts |= {key: 0 for step in _purge_steps.values() for key in step.counts_keys}
    held_sos, held_incidents = held_ids()

    def cutoff(kind: str):
        return now - timedelta(days=policy[kind]) if policy[kind] else None

    if (c := cutoff("below_threshold_reports")) is not None:
        _purge_below_threshold(c, batch_size, counts)
    if (c := cutoff("closed_incidents")) is not None:
        _purge_incidents(c, batch_size, counts, held_incidents)
    if (c := cutoff("closed_sos")) is not None:
        _purge_sos(c, batch_size, counts, held_sos)
    if (c := cutoff("anonymous_sos_contact")) is not None:
        _minimise(c, batch_size, counts, held_sos, now)
    if (c := cutoff("sos_trails")) is not None:
        _thin_trails(c, batch_size, counts, held_sos)
    if (c := cutoff("view_audit")) is not None:
        _purge_view_audit(c, counts)
    for step in _purge_steps.values():
        if (c := cutoff(step.kind)) is not None:
            step.purge(cutoff=c, batch_size=batch_size, counts=counts)
    counts["outbox_events"] = outbox_prune(now=now)
    run.counts, run.finished_at = counts, timezone.now()
    run.save(update_fields=["counts", "finished_at"])
    return run
