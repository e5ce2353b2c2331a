"""The one funnel for events to clients: `publish()` writes an outbox row in the caller's transaction.

Only services call it (grep for `publish(` to find every event in the system). Nothing is
sent from here: the realtime server reads the outbox after commit, so an event exists if and
only if the change it reports was committed, and a crash or an outage loses nothing.
"""

import logging
import socket

from django.conf import settings
from django.db import connection, transaction

from realtime.models import OutboxEvent

logger = logging.getLogger(__name__)

# Any constant will do; it only has to be the same in every process that publishes.
_OUTBOX_LOCK_KEY = 0x4E4B4F42  # "NKOB"
NOTIFY_CHANNEL = "naarikavach_outbox"


def publish(*, event: str, rooms: list[str], payload: dict) -> OutboxEvent:
    """Record `event` for `rooms`; it is delivered after the surrounding transaction commits."""
    if not connection.in_atomic_block:
        raise RuntimeError("publish() must run inside the transaction of the change it reports")
    if connection.vendor == "postgresql":
        # Serialise publishers until commit, so event ids become visible in id order: a reader
        # that has seen event N can never later find a committed event below N (no gaps).
        # SQLite needs no lock: it has one writer at a time already.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_OUTBOX_LOCK_KEY])
    outbox_event = OutboxEvent.objects.create(event=event, rooms=sorted(set(rooms)), payload=payload)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Delivered by PostgreSQL only if and when the transaction commits, to every realtime process.
            cursor.execute("SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, str(outbox_event.pk)])
    else:
        transaction.on_commit(_nudge_realtime_server)
    return outbox_event


def _nudge_realtime_server() -> None:
    """Wake the (single, SQLite) realtime server at once; if the datagram is lost, its poll catches up."""
    host, _, port = settings.REALTIME_NUDGE_ADDR.rpartition(":")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"outbox", (host, int(port)))
    except OSError as exc:  # pragma: no cover - depends on the network stack
        logger.debug("Realtime nudge not sent: %s", exc)
