"""Reads of the outbox for the realtime server: the live tail, per-room replay and bounds."""

from dataclasses import dataclass

from django.db import connection

from realtime.models import OutboxEvent


@dataclass(frozen=True)
class StoredEvent:
    """An outbox row as the realtime server delivers it: name, rooms and the message clients receive."""

    id: int
    name: str
    rooms: frozenset[str]
    message: dict

    @classmethod
    def from_outbox(cls, row: OutboxEvent) -> "StoredEvent":
        return cls(id=row.pk, name=row.event, rooms=frozenset(row.rooms), message=row.message())


@dataclass(frozen=True)
class OutboxBounds:
    oldest_id: int | None
    newest_id: int | None


_FIELDS = ("id", "event", "rooms", "payload")


def outbox_newest_id() -> int:
    return OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def outbox_lag(*, after_id: int) -> dict:
    """Events a realtime server whose cursor is `after_id` has not delivered yet: how many, and the oldest's time."""
    waiting = OutboxEvent.objects.filter(id__gt=after_id)
    return {"pending": waiting.count(),
            "oldest_pending_at": waiting.order_by("id").values_list("created_at", flat=True).first()}


def outbox_after(*, after_id: int, limit: int) -> list[StoredEvent]:
    """The next events after `after_id`, in id order: the live tail every realtime process follows."""
    rows = OutboxEvent.objects.filter(id__gt=after_id).order_by("id").only(*_FIELDS)[:limit]
    return [StoredEvent.from_outbox(row) for row in rows]


def outbox_replay(*, room: str, after_id: int, upto_id: int, limit: int) -> list[StoredEvent]:
    """Events for `room` with after_id < id <= upto_id, in id order (at most `limit`)."""
    rows = OutboxEvent.objects.filter(id__gt=after_id, id__lte=upto_id)
    if connection.vendor == "postgresql":
        rows = rows.filter(rooms__contains=[room])
    else:
        # SQLite has no JSON containment lookup in Django; json_each does the same in SQL.
        table = OutboxEvent._meta.db_table
        rows = rows.extra(
            where=[f"EXISTS (SELECT 1 FROM json_each({table}.rooms) WHERE json_each.value = %s)"], params=[room]
        )
    return [StoredEvent.from_outbox(row) for row in rows.order_by("id").only(*_FIELDS)[:limit]]


def outbox_bounds() -> OutboxBounds:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {OutboxEvent._meta.db_table}")
        oldest_id, newest_id = cursor.fetchone()
    return OutboxBounds(oldest_id=oldest_id, newest_id=newest_id)
