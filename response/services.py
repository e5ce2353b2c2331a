"""Escalation, and unit status reported from the field.

Escalation: steps fired by the scheduler from the database, and raises fed in from outside (duress, check-ins).

`escalation_tick(now=...)` finds every step that is due (alert still in the step's status for at
least its seconds, step not yet fired for that alert) and fires each in its own transaction with
`escalation_fire`: the Escalation row (unique per alert and step), the audit entry, the realtime
event (`sos_escalated` / `incident_escalated`) and the alert rows are written together or not at all.
Two schedulers, or one restarted after a crash mid-step, therefore fire each step exactly once.

`escalation_raise(sos_id=..., reason=...)` is the entry point for other parts of the platform (the
citizen page's duress cancel and check-in expiry): it escalates an SOS to its next level now.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Unit, User
from accounts.services import unit_status_change
from common.errors import Forbidden, InvalidInput, NotFound
from contacts.services import checkin_expire_due
from incidents.models import AlertDelivery, AlertTarget, Incident, IncidentAuditEntry, IncidentSignal
from incidents.services import alert_deliveries_queue, configured_alert_targets, incident_start
from realtime import rooms
from realtime.events import publish
from response import selectors
from response.models import Escalation, EscalationStep
from sos.models import SOS, SOSAuditEntry
from sos.services import sos_on_scene

logger = logging.getLogger(__name__)

DURESS_CANCEL = "duress_cancel"
CHECKIN_EXPIRED = "checkin_expired"
CAMERA_INCIDENT = "camera_incident"
RAISE_REASONS = {DURESS_CANCEL: "Cancelled with the duress code", CHECKIN_EXPIRED: "Check-in timer expired",
                 CAMERA_INCIDENT: "A camera watching her saw or heard an attack"}
PRIORITY_ORDER = [Incident.Priority.LOW, Incident.Priority.MEDIUM, Incident.Priority.HIGH, Incident.Priority.CRITICAL]


@dataclass(frozen=True)
class SystemActor:
    """The scheduler, as the audit trail names it (an Actor-like object: no user)."""

    label: str = "system:escalation"
    db_user: None = None


SYSTEM = SystemActor()


# The scheduler's tick ---------------------------------------------------------------------------


def escalation_tick(*, now: datetime | None = None) -> list[Escalation]:
    """Fire every step due at `now` (default: the clock); returns the escalations this call wrote.

    First the citizens' own signals: a duress cancel, and walk-me-home check-ins that ran out (each raises
    an SOS), escalate at once.
    """
    now = now or timezone.now()
    fired = escalation_feed_citizen_signals(now=now)
    for due in selectors.due_steps(now=now):
        escalation = escalation_fire(step_id=due.step.pk, sos_id=due.sos_id, incident_id=due.incident_id, now=now)
        if escalation is not None:
            fired.append(escalation)
    return fired


def escalation_feed_citizen_signals(*, now: datetime) -> list[Escalation]:
    """Escalate, once each: every open SOS cancelled under duress, every SOS raised by an expired check-in,
    and every open SOS joined by a camera incident."""
    raised = []
    for sos in checkin_expire_due(now=now):
        raised.append(escalation_raise(sos_id=sos.pk, reason=CHECKIN_EXPIRED, key=f"checkin:{sos.pk}", now=now))
    already = Escalation.objects.filter(sos__isnull=False, key__startswith="raise:duress:").values("sos_id")
    duress = SOS.objects.filter(duress_at__isnull=False, status__in=SOS.OPEN_STATUSES).exclude(pk__in=already)
    for sos_id in list(duress.values_list("pk", flat=True)):
        raised.append(escalation_raise(sos_id=sos_id, reason=DURESS_CANCEL, key=f"duress:{sos_id}", now=now))
    # A camera linked to an open SOS saw violence or heard a scream (cameras/): the SOS goes up a level, once
    # per incident.
    joined = (IncidentSignal.objects.filter(sos__status__in=SOS.OPEN_STATUSES, signal_type=IncidentSignal.Type.SOS)
              .values_list("sos_id", "incident_id"))
    for sos_id, incident_id in list(joined):
        key = f"camera-incident:{incident_id}"
        if not Escalation.objects.filter(sos_id=sos_id, key=f"raise:{key}").exists():
            raised.append(escalation_raise(sos_id=sos_id, reason=CAMERA_INCIDENT, key=key, now=now,
                                           details={"incident_id": str(incident_id)}))
    return [escalation for escalation in raised if escalation is not None]


@transaction.atomic
def escalation_fire(*, step_id: int, sos_id: int | None = None, incident_id=None,
                    now: datetime | None = None) -> Escalation | None:
    """Fire one step for one alert if it is still due and has not fired; None when there is nothing to do."""
    now = now or timezone.now()
    step = EscalationStep.objects.select_related("policy").get(pk=step_id)
    subject = _lock_subject(sos_id=sos_id, incident_id=incident_id)
    if subject is None or subject.status != step.in_status:
        return None  # acknowledged (or closed) in the meantime
    since = selectors.status_since(subject)
    if since + timedelta(seconds=step.after_seconds) > now:
        return None
    escalation = _record(subject, key=step.key, step=step, level=step.level, reason="", actions=step.actions(),
                         now=now)
    if escalation is None:
        return None
    if step.raise_priority and isinstance(subject, Incident):
        _raise_priority(subject)
    _announce(subject, escalation, label=step.label, since=since, now=now,
              targets=_step_targets(step) if _notifies(step) else None)
    return escalation


# Raises from outside the scheduler --------------------------------------------------------------


@transaction.atomic
def escalation_raise(*, sos_id: int, reason: str, details: dict | None = None, key: str = "",
                     now: datetime | None = None) -> Escalation | None:
    """Escalate an SOS to its next level now, whatever its status (a duress cancel closes it for the citizen
    but never for the police). `reason` is DURESS_CANCEL, CHECKIN_EXPIRED or another short code; `key`
    (default: the reason) makes a repeat of the same raise do nothing, so callers may retry safely.
    Supervisors and the configured recipients are told; dashboards re-sound the alarm."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 48:
        raise InvalidInput("Invalid reason.", fields={"reason": ["Give a short reason code (at most 48 characters)."]})
    now = now or timezone.now()
    sos = _lock_subject(sos_id=sos_id)
    if sos is None:
        raise NotFound("SOS not found")
    level = selectors.current_level(sos) + 1
    escalation = _record(sos, key=f"raise:{key or reason}", step=None, level=level, reason=reason,
                         actions=["realert_dashboards", "notify_supervisors"], now=now, details=details)
    if escalation is None:
        return None
    event = "sos_cancelled_under_duress" if reason == DURESS_CANCEL else "sos_escalated"
    _announce(sos, escalation, label=RAISE_REASONS.get(reason, reason), since=selectors.status_since(sos), now=now,
              targets=configured_alert_targets() + _supervisor_targets(), alert_event=event)
    return escalation


# Pieces -----------------------------------------------------------------------------------------


def _lock_subject(*, sos_id: int | None = None, incident_id=None) -> SOS | Incident | None:
    if sos_id is not None:
        return SOS.objects.select_for_update().filter(pk=sos_id).first()
    return (
        Incident.objects.select_for_update(of=("self",)).select_related("beacon", "assigned_to")
        .filter(pk=incident_id).first()
    )


def _record(subject, *, key: str, step: EscalationStep | None, level: int, reason: str, actions: list[str],
            now: datetime, details: dict | None = None) -> Escalation | None:
    """The Escalation row and its audit entry; None if this (alert, key) has fired already."""
    is_sos = isinstance(subject, SOS)
    owner = {"sos": subject} if is_sos else {"incident": subject}
    if Escalation.objects.filter(**owner, key=key).exists():
        return None
    try:
        # A savepoint: if another scheduler wrote the same (alert, key) first, only this insert is undone.
        with transaction.atomic():
            escalation = Escalation.objects.create(
                **owner, step=step, key=key, level=level, in_status=subject.status, reason=reason, actions=actions,
                fired_at=now,
            )
    except IntegrityError:
        return None
    audit = {"level": level, "key": key, "actions": actions, **({"reason": reason} if reason else {}),
             **(details or {})}
    (SOSAuditEntry if is_sos else IncidentAuditEntry).record(subject, action="escalated", actor=SYSTEM,
                                                              from_status=subject.status, details=audit)
    return escalation


def _raise_priority(incident: Incident) -> None:
    position = PRIORITY_ORDER.index(incident.priority) if incident.priority in PRIORITY_ORDER else 0
    if position + 1 >= len(PRIORITY_ORDER):
        return
    old = incident.priority
    incident.priority = PRIORITY_ORDER[position + 1]
    incident.save(update_fields=["priority", "updated_at"])
    IncidentAuditEntry.record(incident, action="priority_raised", actor=SYSTEM, from_status=incident.status,
                              details={"from": old, "to": incident.priority})


def _announce(subject, escalation: Escalation, *, label: str, since: datetime, now: datetime,
              targets: list[tuple[str, ...]] | None, alert_event: str = "") -> None:
    """The realtime event for the dashboards and, when the step notifies anyone, the alert rows."""
    escalated = {
        "level": escalation.level,
        "label": label,
        "reason": escalation.reason,
        "actions": escalation.actions,
        "realert": "realert_dashboards" in escalation.actions,
        "status_since": since.isoformat(),
        "seconds_in_status": int((now - since).total_seconds()),
        "timestamp": now.isoformat(),
    }
    if isinstance(subject, SOS):
        payload = {"sos_id": subject.pk, "room_id": str(subject.room_id), "status": subject.status,
                   "sos_type": subject.sos_type, **escalated}
        publish(event="sos_escalated", rooms=[rooms.SOS_CHANNEL], payload=payload)
        alert_payload, owner = subject.alert_payload(), {"sos": subject}
        alert_event = alert_event or "sos_escalated"
    else:
        payload = {**subject.event_payload(), **escalated}
        publish(event="incident_escalated", rooms=[rooms.INCIDENTS_CHANNEL], payload=payload)
        alert_payload, owner = subject.event_payload(), {"incident": subject}
        alert_event = alert_event or "incident_escalated"
    if targets is not None:
        alert_payload.update(escalation_level=escalation.level, escalation_label=label, reason=escalation.reason)
        alert_deliveries_queue(event=alert_event, payload=alert_payload, targets=targets, now=now, **owner)


def _notifies(step: EscalationStep) -> bool:
    return step.notify_supervisors or step.notify_dispatchers or bool(step.webhook_url)


def _supervisor_targets() -> list[tuple[str, ...]]:
    targets = [(AlertDelivery.Channel.EMAIL, address) for address in settings.ESCALATION_SUPERVISOR_EMAILS]
    targets += [(AlertDelivery.Channel.WEBHOOK, url) for url in settings.ESCALATION_SUPERVISOR_WEBHOOKS]
    targets += [
        (target.channel, target.target, target.format)
        for target in AlertTarget.objects.filter(is_active=True, is_supervisor=True)
    ]
    return targets


def _dispatcher_targets() -> list[tuple[str, ...]]:
    addresses = (
        User.objects.filter(role=User.Role.DISPATCHER, is_active=True).exclude(email="")
        .order_by("username").values_list("email", flat=True)
    )
    return [(AlertDelivery.Channel.EMAIL, address) for address in addresses]


def _step_targets(step: EscalationStep) -> list[tuple[str, ...]]:
    """The configured recipients, and whoever the step names."""
    targets = configured_alert_targets()
    if step.notify_supervisors:
        targets += _supervisor_targets()
    if step.notify_dispatchers:
        targets += _dispatcher_targets()
    if step.webhook_url:
        targets.append((AlertDelivery.Channel.WEBHOOK, step.webhook_url))
    return targets



# Unit status from the field -----------------------------------------------------------------------


@transaction.atomic
def unit_status_report(*, unit_number: str, status: str, actor) -> Unit:
    """An officer of the unit reports its status (en route, on scene, available, off duty), or a dispatcher
    sets it, overriding the lifecycle where needed. On scene moves the unit's dispatched SOS to on scene
    and starts the incidents assigned to its officers."""
    unit = Unit.objects.select_for_update().filter(unit_number=unit_number).first()
    if unit is None:
        raise NotFound("Unit not found")
    own_officer = actor.is_officer and actor.unit_id == unit.pk
    dispatcher = actor.is_supervisor
    if not (own_officer or dispatcher):
        raise Forbidden("Only officers of this unit and dispatchers may set its status.")
    if status not in Unit.Status.values:
        raise InvalidInput("Invalid unit status.", fields={"status": [f"Use one of {', '.join(Unit.Status.values)}."]})
    override = dispatcher and not own_officer and status != unit.status and not unit.may_become(status)
    unit_status_change(unit=unit, status=status, actor=actor, reason="override" if override else "reported",
                       override=override)
    if status == Unit.Status.ON_SCENE:
        for sos_id in (SOS.objects.filter(assignments__unit=unit, status=SOS.Status.DISPATCHED)
                       .values_list("pk", flat=True).distinct()):
            sos_on_scene(sos_id=sos_id, actor=actor, unit_number=unit.unit_number)
        for incident_id in Incident.objects.filter(assigned_to__unit=unit, status=Incident.Status.ASSIGNED).values_list(
                "pk", flat=True):
            incident_start(incident_id=incident_id, actor=actor, note=f"Unit {unit.unit_number} on scene")
    return unit
