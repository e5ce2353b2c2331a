"""State changes of the outbox itself: pruning events older than the retention period."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from realtime.models import OutboxEvent

PRUNE_CHUNK = 5000


def outbox_prune(*, retention_hours: float | None = None, now=None) -> int:
    """Delete events older than the retention period; returns how many were deleted.

    Deletes by id, from the oldest up to the newest expired event, so the outbox stays one contiguous
    range of ids: a client whose last id is below the oldest kept id may have missed pruned events
    (and is told to resync), one at or above it has missed none. The newest event is always kept, so
    the server can still tell a pruned id from one that never existed.
    """
    hours = settings.OUTBOX_RETENTION_HOURS if retention_hours is None else retention_hours
    cutoff = (now or timezone.now()) - timedelta(hours=hours)
    newest_id = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first()
    expired_upto = (
        OutboxEvent.objects.filter(created_at__lt=cutoff).order_by("-id").values_list("id", flat=True).first()
    )
    if newest_id is None or expired_upto is None:
        return 0
    expired_upto = min(expired_upto, newest_id - 1)
    deleted = 0
    while True:
        # Small chunks: on SQLite a delete holds the one write lock, and SOS alerts must not wait for it long.
        with transaction.atomic():
            expired = OutboxEvent.objects.filter(id__lte=expired_upto).order_by("id")
            chunk = list(expired.values_list("id", flat=True)[:PRUNE_CHUNK])
            if not chunk:
                return deleted
            deleted += OutboxEvent.objects.filter(id__lte=chunk[-1]).delete()[0]
