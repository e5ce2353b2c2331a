"""Reads of incidents and AI events that need more than one line: filters and what to fetch with them."""

from django.db.models import Prefetch, QuerySet

from incidents.models import AIEvent, AlertDelivery, Incident, IncidentImage, IncidentSignal


def incident_list() -> QuerySet[Incident]:
    """Newest activity first (incidents.filters.IncidentFilter narrows it)."""
    return Incident.objects.select_related("beacon", "assigned_to").order_by("-last_signal_at", "-created_at")


def incident_detail(*, incident_id) -> Incident | None:
    return (
        Incident.objects.select_related("beacon", "assigned_to")
        .prefetch_related(
            Prefetch("signals", queryset=IncidentSignal.objects.select_related("device", "ai_event")),
            Prefetch("images", queryset=IncidentImage.objects.order_by("uploaded_at", "id")),
            "audio_clips",
            "audit_trail",
        )
        .filter(pk=incident_id)
        .first()
    )


def ai_event_list() -> QuerySet[AIEvent]:
    """Newest first, with images and audio clips (incidents.filters.AIEventFilter narrows it)."""
    return (
        AIEvent.objects.select_related("beacon", "device").prefetch_related("images", "audio_clips")
        .order_by("-received_at", "-id")
    )


def alert_backlog(*, dead_since) -> dict:
    """Alerts still to deliver (how many, the oldest's creation time) and those given up since `dead_since`."""
    pending = AlertDelivery.objects.filter(delivered_at__isnull=True, dead_at__isnull=True)
    return {
        "pending": pending.count(),
        "oldest_pending_at": pending.order_by("created_at").values_list("created_at", flat=True).first(),
        "dead": AlertDelivery.objects.filter(delivered_at__isnull=True, dead_at__gte=dead_since).count(),
    }
