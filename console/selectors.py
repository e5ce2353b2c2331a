"""The dispatcher console's reads: everything open, in the order a human should look at it, in few queries;
and what was closed, with who closed it and why."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Unit
from common.actors import Actor, sees_everything
from console import areas
from incidents.models import Incident, IncidentAuditEntry
from incidents.permissions import incidents_visible_to
from response.selectors import escalation_board
from sos.models import SOS, LocationUpdate, OfficerAssignment, SOSAuditEntry
from sos.selectors import SOSAssignmentScope

DEFAULT_TRAIL_POINTS = 50
MAX_TRAIL_POINTS = 500
# Closed alerts stay on the console this long ("cancelled by the citizen at 21:04"), at most this many.
RECENTLY_CLOSED = timedelta(hours=2)
RECENTLY_CLOSED_LIMIT = 50
# The audit actions that close an alert (their note and actor say why and who).
SOS_CLOSING_ACTIONS = ("resolved", "cancelled", "cancelled_on_behalf")
INCIDENT_CLOSING_ACTIONS = ("resolved",)


class TrailPoint(NamedTuple):
    """One point of a trail as the console needs it (read as values: ten thousand model instances cost ~1 s)."""

    latitude: float
    longitude: float
    accuracy_m: float | None
    recorded_at: datetime


@dataclass
class QueueItem:
    kind: str  # "sos" or "incident"
    alert: SOS | Incident
    needs_acknowledgement: bool
    waiting_since: datetime
    status_since: datetime | None = None
    level: int = 0
    level_label: str = ""
    trail: list[TrailPoint] = field(default_factory=list)
    assignments: list[OfficerAssignment] = field(default_factory=list)

    @property
    def triage_key(self) -> tuple:
        # The highest escalation level first, then unacknowledged before acknowledged, then the longest waiting.
        return (-self.level, not self.needs_acknowledgement, self.waiting_since)


@dataclass
class ClosedItem:
    kind: str
    alert: SOS | Incident
    closed_at: datetime
    how: str  # resolved, cancelled (by the citizen), cancelled_on_behalf
    note: str = ""
    closed_by: str = ""  # the audit trail's actor label


# The cutoff's subquery needs no tie-break: the `per_sos`-th newest time is the same whichever tied point is it.
_RECENT_POINTS_SQL = """
    SELECT p.sos_request_id, p.latitude, p.longitude, p.accuracy_m, {recorded_at}
    FROM {sos} s
    JOIN {point} p ON p.sos_request_id = s.id AND p.recorded_at >= COALESCE(
        (SELECT q.recorded_at FROM {point} q WHERE q.sos_request_id = s.id
         ORDER BY q.recorded_at DESC LIMIT 1 OFFSET %s),
        %s)
    WHERE s.status IN ({open})
    ORDER BY p.sos_request_id, p.recorded_at, p.id"""


def recent_points(*, per_sos: int) -> dict[int, list[TrailPoint]]:
    """The newest `per_sos` points of every open SOS, oldest first, in one query.

    Each open SOS joins its points from its cutoff on (the time of its `per_sos`-th newest point, a subquery that
    walks the (SOS, time) index backwards), so the database reads only the points returned, through the index, on
    SQLite and PostgreSQL alike; a window over the trails would number every point of every trail first. The rows are
    read through a plain cursor: the ORM's per-value conversions cost more than the query for ten thousand points."""
    if per_sos <= 0:
        return {}
    earliest = connection.ops.adapt_datetimefield_value(datetime(1, 1, 1, tzinfo=UTC))
    trails: dict[int, list[TrailPoint]] = {}
    with connection.cursor() as cursor:
        recorded_at, aware = _time_reading(cursor, "p.recorded_at")
        sql = _RECENT_POINTS_SQL.format(recorded_at=recorded_at, sos=SOS._meta.db_table,
                                        point=LocationUpdate._meta.db_table,
                                        open=", ".join(["%s"] * len(SOS.OPEN_STATUSES)))
        cursor.execute(sql, [per_sos - 1, earliest, *SOS.OPEN_STATUSES])
        for sos_id, rows in groupby(cursor.fetchall(), key=itemgetter(0)):
            # Points recorded at the very same time as the cutoff may add a few: keep the newest `per_sos`.
            trails[sos_id] = [TrailPoint(latitude, longitude, accuracy_m, aware(at))
                              for _, latitude, longitude, accuracy_m, at in rows][-per_sos:]
    return trails


def _time_reading(cursor, column: str):
    """How to select a time column on this cursor, and how to make the value read an aware time, at the least cost
    per value (a few microseconds each add up over ten thousand points):

    - PostgreSQL (psycopg 3): psycopg's own loader, C in psycopg[binary], on this cursor. Django registers a Python
      subclass of it on each connection, which costs ~15 µs a value. Both give the same instants.
    - SQLite storing UTC (Django's default): the stored text ("2026-12-01 18:34:43.595654", as Django writes it) read
      as text, and parsed with its offset in one call, instead of sqlite3's converter and then a replace().
    - Otherwise: what the driver returns, given the database's zone if naive."""
    stored_in = connection.timezone
    adapters = getattr(cursor.cursor, "adapters", None)  # psycopg 3's per-cursor map
    if connection.vendor == "postgresql" and adapters is not None:
        import psycopg
        from psycopg.pq import Format

        timestamptz = psycopg.adapters.types["timestamptz"].oid
        adapters.register_loader(timestamptz, psycopg.adapters.get_loader(timestamptz, Format.TEXT))
        return column, _as_read
    if connection.vendor == "sqlite" and stored_in == UTC:
        return f"CAST({column} AS TEXT)", _utc_text
    return column, lambda at: at if at.tzinfo is not None else at.replace(tzinfo=stored_in)


def _as_read(at: datetime) -> datetime:
    return at


def _utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


def open_queue(*, trail_points: int = DEFAULT_TRAIL_POINTS) -> list[QueueItem]:
    """Every open SOS and incident with what a row needs (level, recent trail, assignments), most urgent first."""
    board = escalation_board()
    sos_board = {row["sos_id"]: row for row in board["sos"]}
    incident_board = {row["incident_id"]: row for row in board["incidents"]}
    alerts = list(SOS.objects.filter(status__in=SOS.OPEN_STATUSES))
    trails = recent_points(per_sos=trail_points)
    assignments: dict[int, list[OfficerAssignment]] = {sos.pk: [] for sos in alerts}
    # Joined on the status rather than given 200 instances to resolve one by one; an alert that opened meanwhile is
    # not in `alerts`, and its assignments are left out with it.
    for assignment in (OfficerAssignment.objects.filter(sos_request__status__in=SOS.OPEN_STATUSES)
                       .select_related("unit")):
        assignments.get(assignment.sos_request_id, []).append(assignment)

    def escalation(row: dict | None) -> dict:
        row = row or {}
        return {"level": row.get("level", 0), "level_label": row.get("label", ""), "status_since": row.get("status_since")}

    items = [
        QueueItem(kind="sos", alert=sos, needs_acknowledgement=sos.status == SOS.Status.ACTIVE,
                  waiting_since=sos.created_at, trail=trails.get(sos.pk, []), assignments=assignments[sos.pk],
                  **escalation(sos_board.get(sos.pk)))
        for sos in alerts
    ]
    incidents = Incident.objects.filter(status__in=Incident.OPEN_STATUSES).select_related("beacon", "assigned_to")
    items += [
        QueueItem(kind="incident", alert=incident, needs_acknowledgement=incident.status == Incident.Status.CREATED,
                  waiting_since=incident.created_at, **escalation(incident_board.get(incident.pk)))
        for incident in incidents
    ]
    return sorted(items, key=lambda item: item.triage_key)


def _closing_entries(model, subject_field: str, ids: list, actions: tuple[str, ...]) -> dict:
    """The last closing audit entry of each alert: {id: entry}."""
    entries = {}
    for entry in model.objects.filter(**{f"{subject_field}__in": ids, "action__in": actions}).order_by("created_at"):
        entries[getattr(entry, f"{subject_field}_id")] = entry
    return entries


def _closed_sos(rows: list[SOS]) -> list[ClosedItem]:
    entries = _closing_entries(SOSAuditEntry, "sos_request", [sos.pk for sos in rows], SOS_CLOSING_ACTIONS)
    items = []
    for sos in rows:
        entry = entries.get(sos.pk)
        how = entry.action if entry else sos.status
        items.append(ClosedItem(kind="sos", alert=sos, closed_at=sos.closed_at or sos.updated_at, how=how,
                                note=(entry.details or {}).get("note", "") if entry else "",
                                closed_by=entry.actor_label if entry else ""))
    return items


def _closed_incidents(rows: list[Incident]) -> list[ClosedItem]:
    entries = _closing_entries(IncidentAuditEntry, "incident", [i.pk for i in rows], INCIDENT_CLOSING_ACTIONS)
    return [ClosedItem(kind="incident", alert=incident, closed_at=incident.resolved_at or incident.updated_at,
                       how="resolved", note=incident.resolution_note,
                       closed_by=entries[incident.pk].actor_label if incident.pk in entries else "")
            for incident in rows]


# The history's filters. An SOS has no priority of its own: its type stands in (an emergency is critical, an alert
# high), as in the queue. "cancelled" covers the citizen's cancel and a dispatcher's cancel on her behalf.
HISTORY_STATUSES = ("resolved", "cancelled")
HISTORY_PRIORITIES = ("critical", "high", "medium", "low")
SOS_TYPE_OF_PRIORITY = {"critical": SOS.Type.EMERGENCY, "high": SOS.Type.ALERT}


def closed_sos_rows(*, q: str = "", status: str = "", priority: str = "", unit: str = "",
                    viewer: Actor | None = None) -> QuerySet[SOS]:
    rows = SOS.objects.exclude(status__in=SOS.OPEN_STATUSES).order_by("-closed_at", "-id")
    if viewer is not None and not sees_everything(viewer):
        # An officer sees a closed SOS only when their unit was assigned to it (docs/security.md).
        rows = rows.filter(pk__in=SOSAssignmentScope(unit_id=viewer.unit_id).sos_ids())
    if q:
        match = Q(name__icontains=q) | Q(phone__icontains=q)
        rows = rows.filter(match | Q(pk=int(q)) if q.isdigit() and len(q) < 12 else match)
    if status:
        rows = rows.filter(status=status)
    if priority:
        rows = rows.filter(sos_type=SOS_TYPE_OF_PRIORITY[priority]) if priority in SOS_TYPE_OF_PRIORITY else rows.none()
    if unit:
        rows = rows.filter(pk__in=OfficerAssignment.objects.filter(unit__unit_number=unit).values("sos_request_id"))
    return rows


def closed_incident_rows(*, q: str = "", status: str = "", priority: str = "", unit: str = "",
                         viewer: Actor | None = None) -> QuerySet[Incident]:
    rows = (Incident.objects.exclude(status__in=Incident.OPEN_STATUSES).select_related("beacon", "assigned_to")
            .order_by("-resolved_at", "-created_at"))
    if viewer is not None:
        rows = incidents_visible_to(viewer, rows)
    if q:
        rows = rows.filter(Q(kind__icontains=q) | Q(beacon__name__icontains=q) | Q(description__icontains=q)
                           | Q(resolution_note__icontains=q))
    if status:
        # An incident is only ever resolved.
        rows = rows.filter(status=Incident.Status.RESOLVED) if status == "resolved" else rows.none()
    if priority:
        rows = rows.filter(priority__iexact=priority)
    if unit:
        rows = rows.filter(assigned_to__unit__unit_number=unit)
    return rows


# Where a closed alert was, for the area filter: an SOS's last position, an incident's beacon.
SOS_POSITION = {"latitude": "last_latitude", "longitude": "last_longitude"}
INCIDENT_POSITION = {"latitude": "beacon__latitude", "longitude": "beacon__longitude"}


def closed_alerts(*, kind: str = "", q: str = "", status: str = "", priority: str = "", unit: str = "",
                  area: areas.Area | None = None, offset: int = 0, limit: int = 25,
                  since: datetime | None = None, viewer: Actor | None = None) -> tuple[list[ClosedItem], int]:
    """Closed SOS alerts and incidents, newest closure first, with who closed each and their note; and the total.
    With an area, only those whose last position lies in it (one without a position lies in none). With a
    viewer, only those they may see (an officer: their unit's).

    The two kinds are merged by taking `offset + limit` of each, which is enough to cut the merged page."""
    filters = {"q": q, "status": status, "priority": priority, "unit": unit, "viewer": viewer}
    sos_rows = closed_sos_rows(**filters) if kind in ("", "sos") else SOS.objects.none()
    incident_rows = closed_incident_rows(**filters) if kind in ("", "incident") else Incident.objects.none()
    if area is not None:
        sos_rows = areas.inside(sos_rows, area, **SOS_POSITION)
        incident_rows = areas.inside(incident_rows, area, **INCIDENT_POSITION)
    if since is not None:
        sos_rows = sos_rows.filter(closed_at__gte=since)
        incident_rows = incident_rows.filter(resolved_at__gte=since)
    total = sos_rows.count() + incident_rows.count()
    window = offset + limit
    merged = _closed_sos(list(sos_rows[:window])) + _closed_incidents(list(incident_rows[:window]))
    merged.sort(key=lambda item: item.closed_at, reverse=True)
    return merged[offset:window], total


def closed_without_position(*, kind: str = "", q: str = "", status: str = "", priority: str = "",
                            unit: str = "", viewer: Actor | None = None) -> int:
    """How many closed alerts match the other filters but have no position (an area filter cannot place them)."""
    filters = {"q": q, "status": status, "priority": priority, "unit": unit, "viewer": viewer}
    count = 0
    if kind in ("", "sos"):
        count += areas.without_position(closed_sos_rows(**filters), **SOS_POSITION).count()
    if kind in ("", "incident"):
        count += areas.without_position(closed_incident_rows(**filters), **INCIDENT_POSITION).count()
    return count


def recently_closed(*, now: datetime | None = None, viewer: Actor | None = None) -> list[ClosedItem]:
    items, _ = closed_alerts(since=(now or timezone.now()) - RECENTLY_CLOSED, limit=RECENTLY_CLOSED_LIMIT,
                             viewer=viewer)
    return items


def units_on_duty() -> QuerySet[Unit]:
    return Unit.objects.prefetch_related("officers").order_by("unit_number")


def trail_page(*, sos_id: int, before: datetime, limit: int) -> tuple[list[LocationUpdate], bool]:
    """The `limit` points of an SOS's trail recorded before `before`, newest first, and whether older ones remain."""
    points = list(LocationUpdate.objects.filter(sos_request_id=sos_id, recorded_at__lt=before)
                  .order_by("-recorded_at", "-id")[:limit + 1])
    return points[:limit], len(points) > limit
