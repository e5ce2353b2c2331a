"""A citizen's own data: everything the platform holds about her, as JSON, and deleting it on request.

Deletion honours legal holds and the response: an SOS still open, or on hold (directly or through an
incident it fed), is kept, and she is told which and why; everything else of hers is deleted with her account.
"""

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError

from accounts.models import User
from common.audit import AuditChainHead
from privacy.models import CitizenDeletion
from privacy.retention import held_ids, sos_attached_counts, sos_attached_files_delete
from sos.models import SOS


def _time(value):
    return value.isoformat() if value else None


def _sos_export(sos: SOS) -> dict:
    return {
        "sos_id": sos.pk,
        "name": sos.name,
        "phone": sos.phone,
        "sos_type": sos.get_sos_type_display(),
        "status": sos.status,
        "created_at": _time(sos.created_at),
        "closed_at": _time(sos.closed_at),
        "first_position": {"latitude": sos.initial_latitude, "longitude": sos.initial_longitude,
                           "accuracy_m": sos.accuracy_m},
        "trail": [point.as_point() for point in sos.locations.order_by("recorded_at", "id")],
        "assignments": [{"officer_name": a.officer_name, "unit": a.unit.unit_number, "at": _time(a.assigned_at)}
                        for a in sos.assignments.select_related("unit")],
        "history": [{"action": e.action, "status": e.to_status, "by": e.actor_label, "at": _time(e.created_at)}
                    for e in sos.audit_trail.all()],
    }


def citizen_export_data(user: User) -> dict:
    """Everything held about `user`: her account and contact details, her SOS alerts with their trails."""
    return {
        "account": {
            "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
            "role": user.role, "date_joined": _time(user.date_joined), "last_login": _time(user.last_login),
        },
        "contacts": {"email": user.email, "phone": user.phone},
        "sos_alerts": [_sos_export(sos) for sos in SOS.objects.filter(owner=user).order_by("created_at", "id")],
    }


def _kept_reason(sos: SOS, held: set[int]) -> str | None:
    if sos.is_open:
        return "This SOS is still open: it is kept while the response is under way. Ask again after it closes."
    if sos.pk in held:
        # The hold's own reason may concern an investigation; she is told that it exists, not its contents.
        return "This SOS is under a legal hold (it may be needed as evidence); it is kept until the hold is released."
    return None


def _scrub(user: User) -> None:
    user.username = f"deleted-{user.pk}"
    user.first_name = user.last_name = user.email = user.phone = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()


@transaction.atomic
def citizen_delete(user: User) -> CitizenDeletion:
    """Delete `user`'s account and her SOS alerts, except those kept (open or on legal hold), saying why."""
    held_sos, _ = held_ids()
    kept, doomed = [], []
    for sos in SOS.objects.select_for_update().filter(owner=user).order_by("id"):
        reason = _kept_reason(sos, held_sos)
        if reason:
            kept.append({"kind": "sos", "id": sos.pk, "reason": reason})
        else:
            doomed.append(sos.pk)
    # Files other apps keep with her alerts (camera pictures) go before their rows; an alert whose files could
    # not be deleted just now is kept, and she is told to ask again.
    file_counts = sos_attached_counts()
    blocked = sos_attached_files_delete(doomed, file_counts)
    for pk in sorted(blocked):
        kept.append({"kind": "sos", "id": pk, "reason": "Some evidence files of this SOS could not be deleted just "
                     "now; it is kept. Ask again later."})
    doomed = [pk for pk in doomed if pk not in blocked]
    deleted = SOS.objects.filter(pk__in=doomed).delete()[1]
    AuditChainHead.objects.filter(chain__in=[f"sos.sosauditentry:{pk}" for pk in doomed]).delete()
    counts = {
        "sos_alerts": deleted.get("sos.SOS", 0),
        "trail_points": deleted.get("sos.LocationUpdate", 0),
        **{kind: count for kind, count in file_counts.items() if kind != "file_errors"},
        "account": 1,
    }
    try:
        with transaction.atomic():
            user.delete()
    except (ProtectedError, RestrictedError):
        # Something that must outlive the account still points at it: keep a husk with nothing personal.
        _scrub(user)
        counts["account"] = 0
        kept.append({"kind": "account", "id": None, "reason": "Your account is closed and emptied of your details; "
                     "an empty record of it is kept because other records still refer to it."})
    if kept:
        kept.append({"kind": "audit", "id": None, "reason": "The kept alerts' audit trails still name your account "
                     "as it was, so that every action on them stays accountable."})
    kept.append({"kind": "view_audit", "id": None, "reason": "The record that your data was exported or looked at "
                 "is kept for the view audit's retention period, without your data."})
    return CitizenDeletion.objects.create(deleted=counts, kept=kept)
