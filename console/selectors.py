"""The dispatcher console's reads: everything open, in the order a human should look at it, in few queries."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from accounts.models import Unit
from incidents.models import Incident
from sos.models import SOS, LocationUpdate, OfficerAssignment

DEFAULT_TRAIL_POINTS = 50
MAX_TRAIL_POINTS = 500


@dataclass
class QueueItem:
    kind: str  # "sos" or "incident"
    alert: SOS | Incident
    needs_acknowledgement: bool
    waiting_since: datetime
    trail: list[LocationUpdate] = field(default_factory=list)
    assignments: list[OfficerAssignment] = field(default_factory=list)

    @property
    def triage_key(self) -> tuple:
        # Unacknowledged before acknowledged, then the longest waiting first.
        return (not self.needs_acknowledgement, self.waiting_since)


def recent_points(sos_ids: list[int], *, per_sos: int) -> dict[int, list[LocationUpdate]]:
    """The newest `per_sos` points of each SOS, oldest first, in one query (a window over each trail)."""
    if not sos_ids:
        return {}
    ranked = (
        LocationUpdate.objects.filter(sos_request_id__in=sos_ids)
        .annotate(newest_first=Window(RowNumber(), partition_by=[F("sos_request_id")],
                                      order_by=[F("recorded_at").desc(), F("id").desc()]))
        .filter(newest_first__lte=per_sos)
        .order_by("sos_request_id", "recorded_at", "id")
    )
    trails: dict[int, list[LocationUpdate]] = {sos_id: [] for sos_id in sos_ids}
    for point in ranked:
        trails[point.sos_request_id].append(point)
    return trails


def open_queue(*, trail_points: int = DEFAULT_TRAIL_POINTS) -> list[QueueItem]:
    """Every open SOS and incident with what a row needs (recent trail, assignments), most urgent first."""
    alerts = list(SOS.objects.filter(status__in=SOS.OPEN_STATUSES).select_related("owner"))
    trails = recent_points([sos.pk for sos in alerts], per_sos=trail_points)
    assignments: dict[int, list[OfficerAssignment]] = {sos.pk: [] for sos in alerts}
    for assignment in OfficerAssignment.objects.filter(sos_request__in=alerts).select_related("unit"):
        assignments[assignment.sos_request_id].append(assignment)
    items = [
        QueueItem(kind="sos", alert=sos, needs_acknowledgement=sos.status == SOS.Status.ACTIVE,
                  waiting_since=sos.created_at, trail=trails[sos.pk], assignments=assignments[sos.pk])
        for sos in alerts
    ]
    incidents = Incident.objects.filter(status__in=Incident.OPEN_STATUSES).select_related("beacon", "assigned_to")
    items += [
        QueueItem(kind="incident", alert=incident, needs_acknowledgement=incident.status == Incident.Status.CREATED,
                  waiting_since=incident.created_at)
        for incident in incidents
    ]
    return sorted(items, key=lambda item: item.triage_key)


def units_on_duty() -> QuerySet[Unit]:
    return Unit.objects.prefetch_related("officers").order_by("unit_number")
