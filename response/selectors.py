"""Reads for escalation: how long an alert has been in its status, which steps are due, the board of open alerts."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, F, Max, Min, OuterRef, Subquery, When
from django.db.models.functions import Coalesce

from incidents.models import Incident, IncidentAuditEntry
from response.models import Escalation, EscalationPolicy, EscalationStep
from sos.models import SOS, SOSAuditEntry

SOS_KIND = {SOS.Type.EMERGENCY: "emergency", SOS.Type.ALERT: "alert"}


@dataclass(frozen=True)
class DueStep:
    step: EscalationStep
    sos_id: int | None = None
    incident_id: object = None


def _entered_status(audit_model, subject_field: str):
    """When the alert first entered its current status, from its audit trail (the one record of its changes)."""
    return Subquery(
        audit_model.objects.filter(**{subject_field: OuterRef("pk"), "to_status": OuterRef("status")})
        .order_by().values(subject_field).annotate(first=Min("created_at")).values("first")[:1]
    )


def _status_since(audit_model, subject_field: str, initial_status: str):
    # An alert is in its first status from the moment it was created; later ones from their audit entry.
    return Case(
        When(status=initial_status, then=F("created_at")),
        default=Coalesce(_entered_status(audit_model, subject_field), "created_at"),
    )


def sos_with_status_since():
    return SOS.objects.annotate(status_since=_status_since(SOSAuditEntry, "sos_request", SOS.Status.ACTIVE))


def incidents_with_status_since():
    return Incident.objects.annotate(
        status_since=_status_since(IncidentAuditEntry, "incident", Incident.Status.CREATED)
    )


def status_since(subject: SOS | Incident) -> datetime:
    rows = sos_with_status_since() if isinstance(subject, SOS) else incidents_with_status_since()
    return rows.filter(pk=subject.pk).values_list("status_since", flat=True).get()


def current_level(subject: SOS | Incident) -> int:
    owner = {"sos": subject} if isinstance(subject, SOS) else {"incident": subject}
    return Escalation.objects.filter(**owner).aggregate(level=Max("level"))["level"] or 0


def active_steps() -> dict[tuple[str, str, str], list[EscalationStep]]:
    """Steps of active policies by (source, kind, priority), soonest first."""
    steps = defaultdict(list)
    for step in EscalationStep.objects.filter(is_active=True, policy__is_active=True).select_related("policy"):
        policy = step.policy
        steps[(policy.source, policy.kind, policy.priority)].append(step)
    for ladder in steps.values():
        ladder.sort(key=lambda step: (step.after_seconds, step.level))
    return steps


def _ladder(steps, source: str, kind: str, priority: str = "") -> list[EscalationStep]:
    return steps.get((source, kind, priority)) or steps.get((source, kind, ""), [])


def due_steps(*, now: datetime) -> list[DueStep]:
    """Every (alert, step) pair whose time has come and that has not fired, oldest deadline first."""
    steps = active_steps()
    if not steps:
        return []
    due = []
    sos_statuses = {step.in_status for (source, *_), ladder in steps.items() if source == "sos" for step in ladder}
    sos_rows = list(sos_with_status_since().filter(status__in=sos_statuses)
                    .values_list("pk", "sos_type", "status", "status_since"))
    fired = set(Escalation.objects.filter(sos_id__in=[row[0] for row in sos_rows]).values_list("sos_id", "key"))
    for pk, sos_type, status, since in sos_rows:
        for step in _ladder(steps, "sos", SOS_KIND.get(sos_type, "")):
            deadline = since + timedelta(seconds=step.after_seconds)
            if step.in_status == status and deadline <= now and (pk, step.key) not in fired:
                due.append((deadline, DueStep(step=step, sos_id=pk)))
    incident_statuses = {step.in_status for (source, *_), ladder in steps.items() if source == "incident"
                         for step in ladder}
    incident_rows = list(incidents_with_status_since().filter(status__in=incident_statuses)
                         .values_list("pk", "kind", "priority", "status", "status_since"))
    fired = set(Escalation.objects.filter(incident_id__in=[row[0] for row in incident_rows])
                .values_list("incident_id", "key"))
    for pk, kind, priority, status, since in incident_rows:
        for step in _ladder(steps, "incident", kind, priority):
            deadline = since + timedelta(seconds=step.after_seconds)
            if step.in_status == status and deadline <= now and (pk, step.key) not in fired:
                due.append((deadline, DueStep(step=step, incident_id=pk)))
    due.sort(key=lambda pair: pair[0])
    return [item for _, item in due]


def policy_for(*, source: str, kind: str, priority: str = "") -> EscalationPolicy | None:
    """The active policy for a kind of alert: an incident's exact priority first, then any priority."""
    policies = EscalationPolicy.objects.filter(source=source, kind=kind, is_active=True, priority__in=[priority, ""])
    return sorted(policies, key=lambda policy: policy.priority == "")[0] if policies else None


def _levels(field: str, ids: list) -> dict:
    """The highest escalation of each alert: {id: (level, label)}."""
    levels = {}
    rows = (Escalation.objects.filter(**{f"{field}__in": ids}).select_related("step")
            .order_by(field, "level", "fired_at"))
    for escalation in rows:
        label = escalation.step.label if escalation.step else escalation.reason
        levels[getattr(escalation, f"{field}_id")] = (escalation.level, label)
    return levels


def escalation_board() -> dict:
    """Every open alert with its escalation level and when it entered its status (dashboards count from it)."""
    sos_rows = list(sos_with_status_since().filter(status__in=SOS.OPEN_STATUSES)
                    .values("pk", "status", "sos_type", "status_since"))
    incident_rows = list(incidents_with_status_since().filter(status__in=Incident.OPEN_STATUSES)
                         .values("pk", "status", "kind", "priority", "status_since"))
    sos_levels = _levels("sos", [row["pk"] for row in sos_rows])
    incident_levels = _levels("incident", [row["pk"] for row in incident_rows])

    def entry(row, levels, id_field):
        level, label = levels.get(row["pk"], (0, ""))
        return {id_field: row["pk"], "status": row["status"], "status_since": row["status_since"], "level": level,
                "label": label}

    def order(entries):
        # Escalated alerts first, then the longest waiting.
        return sorted(entries, key=lambda item: (-item["level"], item["status_since"]))

    return {
        "sos": order(entry(row, sos_levels, "sos_id") for row in sos_rows),
        "incidents": order(entry(row, incident_levels, "incident_id") for row in incident_rows),
    }


# Nearest units ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NearbyUnit:
    unit_number: str
    name: str
    status: str
    latitude: float
    longitude: float
    last_seen_at: datetime
    distance_km: float
    eta_minutes: float
    officers: list[str]


def units_nearest(*, latitude: float, longitude: float, now: datetime, limit: int = 5,
                  speed_kmh: float | None = None, max_age_seconds: int | None = None) -> list[NearbyUnit]:
    """Units on duty by straight-line distance with a rough ETA, available ones first; a unit whose last
    position is older than `max_age_seconds` (UNIT_POSITION_MAX_AGE_SECONDS) is left out: where it is now is
    anybody's guess."""
    from django.conf import settings

    from accounts.models import Unit, User
    from common.geo import distance_km

    speed = speed_kmh or settings.UNIT_ETA_SPEED_KMH
    max_age = timedelta(seconds=max_age_seconds if max_age_seconds is not None
                        else settings.UNIT_POSITION_MAX_AGE_SECONDS)
    units = (Unit.objects.exclude(status=Unit.Status.OFF_DUTY)
             .filter(last_latitude__isnull=False, last_longitude__isnull=False, last_seen_at__gte=now - max_age))
    rosters = defaultdict(list)
    for unit_id, username in (User.objects.filter(role=User.Role.OFFICER, is_active=True, unit__in=units)
                              .order_by("username").values_list("unit_id", "username")):
        rosters[unit_id].append(username)
    nearby = []
    for unit in units:
        km = distance_km(latitude, longitude, unit.last_latitude, unit.last_longitude)
        nearby.append(NearbyUnit(
            unit_number=unit.unit_number, name=unit.name, status=unit.status, latitude=unit.last_latitude,
            longitude=unit.last_longitude, last_seen_at=unit.last_seen_at, distance_km=round(km, 3),
            eta_minutes=round(km / speed * 60, 1), officers=rosters[unit.pk],
        ))
    nearby.sort(key=lambda item: (item.status != Unit.Status.AVAILABLE, item.distance_km, item.unit_number))
    return nearby[:limit]


# Response times ---------------------------------------------------------------------------------

# The milestones of a response, and the audit actions that reach each (the first one counts): being
# assigned a unit acknowledges an alert too.
MILESTONES = ("acknowledge", "dispatch", "on_scene", "resolve")
SOS_MILESTONE_ACTIONS = {"acknowledge": {"acknowledged", "assigned"}, "dispatch": {"assigned"},
                         "on_scene": {"on_scene"}, "resolve": {"resolved"}}
INCIDENT_MILESTONE_ACTIONS = {"acknowledge": {"acknowledged", "assigned"}, "dispatch": {"assigned"},
                              "on_scene": {"started"}, "resolve": {"resolved"}}


@dataclass(frozen=True)
class AlertResponse:
    """One alert's response: seconds from raised to each milestone (None: not reached)."""

    source: str  # citizen | camera
    kind: str  # sos_emergency | sos_alert | violence | scream
    alert_id: str
    raised_at: datetime
    seconds: dict


def _response(source, kind, alert_id, raised_at, trail, actions_by_milestone) -> AlertResponse:
    seconds = {}
    for milestone, actions in actions_by_milestone.items():
        reached = [at for action, at in trail if action in actions]
        seconds[milestone] = (min(reached) - raised_at).total_seconds() if reached else None
    return AlertResponse(source=source, kind=kind, alert_id=alert_id, raised_at=raised_at, seconds=seconds)


def alert_responses(*, start: datetime, end: datetime) -> list[AlertResponse]:
    """Every SOS and incident raised in [start, end) with its response times, from the audit trails."""
    responses = []
    sos_rows = {pk: (sos_type, created) for pk, sos_type, created in
                SOS.objects.filter(created_at__gte=start, created_at__lt=end).values_list("pk", "sos_type",
                                                                                           "created_at")}
    trails = defaultdict(list)
    for sos_id, action, at in SOSAuditEntry.objects.filter(sos_request_id__in=sos_rows).values_list(
            "sos_request_id", "action", "created_at"):
        trails[sos_id].append((action, at))
    for pk, (sos_type, created) in sos_rows.items():
        responses.append(_response("citizen", f"sos_{SOS_KIND.get(sos_type, 'emergency')}", str(pk), created,
                                   trails[pk], SOS_MILESTONE_ACTIONS))
    incident_rows = {pk: (kind, created) for pk, kind, created in
                     Incident.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
                         "pk", "kind", "created_at")}
    trails = defaultdict(list)
    for incident_id, action, at in IncidentAuditEntry.objects.filter(incident_id__in=incident_rows).values_list(
            "incident_id", "action", "created_at"):
        trails[incident_id].append((action, at))
    for pk, (kind, created) in incident_rows.items():
        responses.append(_response("camera", kind, str(pk), created, trails[pk], INCIDENT_MILESTONE_ACTIONS))
    responses.sort(key=lambda response: (response.raised_at, response.source, response.alert_id))
    return responses


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]


def _summary(responses: list[AlertResponse], targets: dict[str, float]) -> dict:
    summary = {"alerts": len(responses)}
    for milestone in MILESTONES:
        values = [r.seconds[milestone] for r in responses if r.seconds[milestone] is not None]
        target = targets.get(milestone)
        within = None
        if target is not None and responses:
            # Of all alerts, not only those that got there: one never acknowledged is not within any target.
            within = round(sum(1 for v in values if v <= target) / len(responses), 4)
        summary[milestone] = {"count": len(values), "p50": percentile(values, 50), "p90": percentile(values, 90),
                              "within_target": within}
    return summary


def response_time_report(*, start: datetime, end: datetime, targets: dict[str, float],
                         per_alert: bool = False) -> dict:
    """p50/p90 of each milestone and the share within its target, overall and split by source and by kind;
    with `per_alert`, each alert's own times too."""
    responses = alert_responses(start=start, end=end)
    by_source, by_kind = defaultdict(list), defaultdict(list)
    for response in responses:
        by_source[response.source].append(response)
        by_kind[response.kind].append(response)
    return {
        "from": start,
        "to": end,
        "targets": {f"{milestone}_seconds": seconds for milestone, seconds in targets.items()},
        "overall": _summary(responses, targets),
        "by_source": {source: _summary(items, targets) for source, items in sorted(by_source.items())},
        "by_kind": {kind: _summary(items, targets) for kind, items in sorted(by_kind.items())},
        **({"alerts": [{"source": r.source, "kind": r.kind, "alert_id": r.alert_id, "raised_at": r.raised_at,
                        **{f"{milestone}_seconds": r.seconds[milestone] for milestone in MILESTONES}}
                       for r in responses]} if per_alert else {}),
    }


# Alert delivery metrics -------------------------------------------------------------------------


def alert_delivery_counts() -> dict:
    """How the alert outbox stands: pending, delivered and dead deliveries, the oldest pending one, and the
    targets with dead deliveries (the ones somebody must look at)."""
    from django.db.models import Count

    from incidents.models import AlertDelivery

    pending = AlertDelivery.objects.filter(delivered_at__isnull=True, dead_at__isnull=True)
    dead = AlertDelivery.objects.filter(dead_at__isnull=False, delivered_at__isnull=True)
    return {
        "pending": pending.count(),
        "delivered": AlertDelivery.objects.filter(delivered_at__isnull=False).count(),
        "dead": dead.count(),
        "oldest_pending_since": pending.order_by("created_at").values_list("created_at", flat=True).first(),
        "dead_by_target": list(dead.values("channel", "target").annotate(count=Count("id"))
                               .order_by("-count", "target")),
    }
