"""Reads for trusted contacts and live links."""

from common.tokens import hash_secret
from contacts.models import LiveLink


def live_link_view(*, token: str) -> dict | None:
    """What a live link shows (her status and trail, nothing else), or None when it is unknown, revoked or expired."""
    link = LiveLink.objects.select_related("sos_request").filter(token_hash=hash_secret(token)).first()
    if link is None or not link.is_valid():
        return None
    sos = link.sos_request
    return {
        "name": sos.name,
        # A cancel under duress left the SOS open: her contacts see it open too (they are on her side).
        "status": sos.status,
        "location_pending": sos.location_pending,
        "created_at": sos.created_at,
        "closed_at": sos.closed_at,
        "trail": [point.as_point() for point in sos.locations.order_by("recorded_at", "id")],
    }
