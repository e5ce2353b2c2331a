"""The one funnel for events to clients: `publish()` writes an outbox row in the caller's transaction.

Only services call it, or `publish_many()` for the several events of one change (grep for `publish`
to find every event in the system). Nothing is sent from here: the realtime server reads the outbox
after commit, so an event exists if and only if the change it reports was committed, and a crash or
an outage loses nothing.
"""

import logging
import socket
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from realtime import event_schema
from realtime.models import OutboxEvent

logger = logging.getLogger(__name__)

# Any constant will do; it only has to be the same in every process that publishes.
_OUTBOX_LOCK_KEY = 0x4E4B4F42  # "NKOB"
NOTIFY_CHANNEL = "naarikavach_outbox"


@dataclass(frozen=True)
class Event:
    """An event for clients, as `publish_many()` takes it."""

    event: str
    rooms: list[str]
    payload: dict


def publish(*, event: str, rooms: list[str], payload: dict) -> OutboxEvent:
    """Record `event` for `rooms`; it is delivered after the surrounding transaction commits."""
    _check(event, payload)
    _begin_publishing()
    return OutboxEvent.objects.create(event=event, rooms=sorted(set(rooms)), payload=payload)


def publish_many(events: list[Event]) -> list[OutboxEvent]:
    """Record the events of one change in one INSERT; their ids follow the order of `events`.

    The same as calling `publish()` for each in turn, in fewer round trips to the database:
    a location point is two or three events, a hundred times a second.
    """
    for e in events:
        _check(e.event, e.payload)
    _begin_publishing()
    # One multi-row INSERT, numbered in the order given (bulk_create relies on the same to hand back
    # the ids); realtime/tests/test_outbox.py checks it on SQLite and PostgreSQL.
    return OutboxEvent.objects.bulk_create(
        [OutboxEvent(event=e.event, rooms=sorted(set(e.rooms)), payload=e.payload) for e in events]
    )


def _check(event: str, payload: dict) -> None:
    """Tests refuse an event that does not match realtime/event_schema.py; production logs it and delivers it."""
    try:
        event_schema.validate(event, payload)
    except event_schema.EventSchemaError:
        if settings.EVENT_SCHEMA_STRICT:
            raise
        logger.error("Publishing an event that does not match its schema", exc_info=True)


def _begin_publishing() -> None:
    """Refuse to publish outside a transaction; arrange the outbox lock and the wake-up for its commit."""
    if not connection.in_atomic_block:
        raise RuntimeError("publish() must run inside the transaction of the change it reports")
    if connection.vendor == "postgresql":
        # The lock serialises publishers until commit, so event ids become visible in id order: a reader
        # that has seen event N can never later find a committed event below N (no gaps). SQLite needs
        # no lock: it has one writer at a time already. The NOTIFY, queued in the same round trip, is
        # delivered by PostgreSQL only if and when the transaction commits, to every realtime process
        # (its payload is not read; identical ones in one transaction are delivered once).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s), pg_notify(%s, '')", [_OUTBOX_LOCK_KEY, NOTIFY_CHANNEL])
    else:
        transaction.on_commit(_nudge_realtime_server)


def _nudge_realtime_server() -> None:
    """Wake the (single, SQLite) realtime server at once; if the datagram is lost, its poll catches up."""
    host, _, port = settings.REALTIME_NUDGE_ADDR.rpartition(":")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"outbox", (host, int(port)))
    except OSError as exc:  # pragma: no cover - depends on the network stack
        logger.debug("Realtime nudge not sent: %s", exc)
