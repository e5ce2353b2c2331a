"""Reads of incidents and AI events that need more than one line: filters and what to fetch with them."""

from datetime import datetime

from django.db.models import Prefetch, QuerySet

from incidents.models import AIEvent, AlertDelivery, Incident, IncidentImage, IncidentSignal


def incident_list(
    *,
    statuses: list[str] | None = None,
    priorities: list[str] | None = None,
    kinds: list[str] | None = None,
    beacon_id: str | None = None,
    since: datetime | None = None,
) -> QuerySet[Incident]:
    """Newest activity first; `since` keeps incidents with a signal at or after that time."""
    qs = Incident.objects.select_related("beacon", "assigned_to")
    if statuses:
        qs = qs.filter(status__in=statuses)
    if priorities:
        qs = qs.filter(priority__in=priorities)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if beacon_id:
        qs = qs.filter(beacon__beacon_id=beacon_id)
    if since:
        qs = qs.filter(last_signal_at__gte=since)
    return qs.order_by("-last_signal_at", "-created_at")


def incident_detail(*, incident_id) -> Incident | None:
    return (
        Incident.objects.select_related("beacon", "assigned_to")
        .prefetch_related(
            Prefetch("signals", queryset=IncidentSignal.objects.select_related("device", "ai_event")),
            Prefetch("images", queryset=IncidentImage.objects.order_by("uploaded_at", "id")),
            "audit_trail",
        )
        .filter(pk=incident_id)
        .first()
    )


def ai_event_list(
    *,
    kinds: list[str] | None = None,
    outcomes: list[str] | None = None,
    beacon_id: str | None = None,
    since: datetime | None = None,
) -> QuerySet[AIEvent]:
    qs = AIEvent.objects.select_related("beacon", "device").prefetch_related("images")
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if outcomes:
        qs = qs.filter(outcome__in=outcomes)
    if beacon_id:
        qs = qs.filter(beacon__beacon_id=beacon_id)
    if since:
        qs = qs.filter(received_at__gte=since)
    return qs.order_by("-received_at", "-id")


def alerts_overdue(*, created_before) -> bool:
    """Whether any alert raised before `created_before` is still undelivered."""
    return AlertDelivery.objects.filter(delivered_at__isnull=True, created_at__lt=created_before).exists()
