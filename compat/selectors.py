"""Reads in the shapes the NaariKavach clients expect."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from sos.models import SOS, LocationUpdate, OfficerAssignment


def naarikavach_sos_window() -> QuerySet[SOS]:
    """Every open SOS, and those closed in the last COMPAT_CLOSED_WINDOW_HOURS (at most COMPAT_CLOSED_LIMIT).

    Their clients take the list as one unpaginated array; an open alert is never left out of it, and
    the closed ones are bounded so the array cannot grow with the platform's history.
    """
    since = timezone.now() - timedelta(hours=settings.COMPAT_CLOSED_WINDOW_HOURS)
    closed_ids = list(
        SOS.objects.exclude(status__in=SOS.OPEN_STATUSES).filter(closed_at__gte=since)
        .order_by("-closed_at", "-id").values_list("id", flat=True)[: settings.COMPAT_CLOSED_LIMIT]
    )
    rows = SOS.objects.filter(Q(status__in=SOS.OPEN_STATUSES) | Q(id__in=closed_ids))
    return _with_related(rows, trail_points=settings.COMPAT_LIST_TRAIL_POINTS).order_by("-created_at", "-id")


def naarikavach_sos_detail(*, sos_id: int) -> SOS | None:
    return _with_related(SOS.objects.filter(pk=sos_id), trail_points=None).first()


def _with_related(rows: QuerySet[SOS], *, trail_points: int | None) -> QuerySet[SOS]:
    points = LocationUpdate.objects.order_by("-recorded_at", "-id")
    if trail_points is not None:
        points = points[:trail_points]  # the newest points of each SOS (a window function per SOS)
    return rows.select_related("owner").prefetch_related(
        Prefetch("locations", queryset=points, to_attr="newest_points"),
        Prefetch("assignments", queryset=OfficerAssignment.objects.select_related("unit").order_by("assigned_at", "id")),
        "images",
    )
