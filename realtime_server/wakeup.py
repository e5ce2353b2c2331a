"""Wake-ups for the live loop: PostgreSQL NOTIFY, or a UDP datagram on SQLite. Losing one only delays an event."""

import asyncio
import logging
from collections.abc import Callable

import psycopg
from django.db import connection

from realtime.events import NOTIFY_CHANNEL

logger = logging.getLogger(__name__)


class _NudgeProtocol(asyncio.DatagramProtocol):
    def __init__(self, on_nudge: Callable[[], None]):
        self.on_nudge = on_nudge

    def datagram_received(self, data, addr):
        # The datagram carries nothing: anyone who can send one can only make the server look at the outbox early.
        self.on_nudge()


async def listen_udp(addr: str, on_nudge: Callable[[], None]) -> asyncio.DatagramTransport | None:
    host, _, port = addr.rpartition(":")
    try:
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _NudgeProtocol(on_nudge), local_addr=(host or "127.0.0.1", int(port))
        )
    except OSError as exc:
        logger.warning("Cannot listen for nudges on %s (%s); events arrive at the poll interval", addr, exc)
        return None
    return transport


def _listen_params() -> dict:
    params = connection.get_connection_params()
    # Django's own cursor class and adapters are for its synchronous connection, not this async one.
    for key in ("cursor_factory", "context"):
        params.pop(key, None)
    return params


async def listen_postgres(on_nudge: Callable[[], None]) -> None:
    """LISTEN on the outbox channel for ever, reconnecting after a failure; runs until cancelled."""
    params = _listen_params()
    delay = 0.5
    while True:
        try:
            aconn = await psycopg.AsyncConnection.connect(autocommit=True, **params)
            async with aconn:
                await aconn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                delay = 0.5
                # Events committed while nobody was listening are found by this catch-up, not by a NOTIFY.
                on_nudge()
                async for _ in aconn.notifies():
                    on_nudge()
        except Exception as exc:  # psycopg errors, and OSError from the socket underneath
            logger.warning("LISTEN %s lost (%s); reconnecting in %.1fs", NOTIFY_CHANNEL, exc, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10)
