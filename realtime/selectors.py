"""Reads of the outbox for the realtime server: the live tail, per-room replay, bounds and SOS trails."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Subquery

from realtime.models import OutboxEvent
from sos.models import LocationUpdate


@dataclass(frozen=True)
class Event:
    """An outbox row as the realtime server delivers it: name, rooms and the message clients receive."""

    id: int
    name: str
    rooms: frozenset[str]
    message: dict

    @classmethod
    def from_outbox(cls, row: OutboxEvent) -> "Event":
        return cls(id=row.pk, name=row.event, rooms=frozenset(row.rooms), message=row.message())


@dataclass(frozen=True)
class OutboxBounds:
    oldest_id: int | None
    newest_id: int | None


@dataclass(frozen=True)
class Trail:
    """An SOS's points as of outbox event `as_of_event_id`, read in one snapshot."""

    sos_id: int
    room_id: str
    as_of_event_id: int
    points: list[dict]


_FIELDS = ("id", "event", "rooms", "payload")


def outbox_newest_id() -> int:
    return OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def outbox_after(*, after_id: int, limit: int) -> list[Event]:
    """The next events after `after_id`, in id order: the live tail every realtime process follows."""
    rows = OutboxEvent.objects.filter(id__gt=after_id).order_by("id").only(*_FIELDS)[:limit]
    return [Event.from_outbox(row) for row in rows]


def outbox_replay(*, room: str, after_id: int, upto_id: int, limit: int) -> list[Event]:
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
    return [Event.from_outbox(row) for row in rows.order_by("id").only(*_FIELDS)[:limit]]


def outbox_bounds() -> OutboxBounds:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {OutboxEvent._meta.db_table}")
        oldest_id, newest_id = cursor.fetchone()
    return OutboxBounds(oldest_id=oldest_id, newest_id=newest_id)


def sos_trail(*, sos_id: int) -> Trail:
    """The trail of an SOS and the newest outbox id, in one statement so that both come from one snapshot.

    Every point whose `location_history` event has an id up to `as_of_event_id` is in the trail, and no
    other: a client that gets this trail and then the room's events after that id sees each point once.
    """
    newest = OutboxEvent.objects.order_by("-id").values("id")[:1]
    points = list(
        LocationUpdate.objects.filter(sos_request_id=sos_id)
        .annotate(as_of_event_id=Subquery(newest))
        .select_related("sos_request")
        .order_by("recorded_at", "id")
    )
    if not points:
        # Every SOS is created with its first point, so only a missing SOS has none: nothing to be consistent with.
        return Trail(sos_id=sos_id, room_id="", as_of_event_id=outbox_newest_id(), points=[])
    return Trail(
        sos_id=sos_id,
        room_id=str(points[0].sos_request.room_id),
        as_of_event_id=points[0].as_of_event_id or 0,
        points=[point.as_point() for point in points],
    )
