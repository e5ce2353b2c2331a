"""The app factory: a python-socketio AsyncServer under ASGI, its delivery hub and background tasks."""

import asyncio
import json
import logging
import time

import socketio
from django.conf import settings
from django.db import connection
from prometheus_client import CONTENT_TYPE_LATEST

from realtime import selectors
from realtime.services import outbox_prune
from realtime_server import fanout, handlers, joins, wakeup
from realtime_server.capacity import Capacity, raise_open_files_limit
from realtime_server.db import close_db_connections, run_db
from realtime_server.hub import Hub
from realtime_server.limits import GuardedAsyncServer
from realtime_server.manager import IndexedAsyncManager
from realtime_server.metrics import limits_of, realtime_metrics
from realtime_server.origins import origin_allowed
from realtime_server.sessions import SessionGuard

logger = logging.getLogger(__name__)


def create_app(*, poll_interval: float | None = None, prune_interval: float | None = None) -> socketio.ASGIApp:
    """Build the ASGI app; the hub starts with the ASGI lifespan (uvicorn runs it), not at import."""
    sio = GuardedAsyncServer(
        max_unauthenticated=settings.REALTIME_MAX_UNAUTHENTICATED,
        auth_timeout=settings.REALTIME_AUTH_TIMEOUT_SECONDS,
        message_rate=settings.REALTIME_MAX_MESSAGES_PER_SECOND,
        message_burst=settings.REALTIME_MESSAGE_BURST,
        max_http_buffer_size=settings.REALTIME_MAX_MESSAGE_BYTES,
        async_mode="asgi",
        # Its disconnect costs O(1), not O(clients): a crowd leaving at once is not O(N²) (see manager.py).
        client_manager=IndexedAsyncManager(),
        cors_allowed_origins=origin_allowed,
        # Handlers run as tasks, so a slow join (a long replay) never holds up another client's events.
        async_handlers=True,
    )
    fanout.install(sio)
    transport = fanout.FanOutTransport(sio)
    hub = Hub(transport, poll_interval=poll_interval or settings.REALTIME_POLL_INTERVAL,
              read_trail=joins.read_trail)
    soft, hard = raise_open_files_limit()
    capacity = Capacity(limit=soft)
    guard = SessionGuard(sio.disconnect, interval=settings.REALTIME_SESSION_CHECK_SECONDS)
    handlers.register(sio, hub, capacity, guard)
    prune_every = settings.REALTIME_PRUNE_INTERVAL if prune_interval is None else prune_interval
    background: list[asyncio.Task] = []
    closers = []

    async def startup():
        await hub.start()
        background.append(asyncio.create_task(hub.run(), name="realtime-delivery"))
        if connection.vendor == "postgresql":
            background.append(asyncio.create_task(wakeup.listen_postgres(hub.nudge), name="realtime-listen"))
        else:
            udp = await wakeup.listen_udp(settings.REALTIME_NUDGE_ADDR, hub.nudge)
            if udp is not None:
                closers.append(udp.close)
        background.append(asyncio.create_task(guard.run(), name="realtime-sessions"))
        if prune_every > 0:
            background.append(asyncio.create_task(_prune_forever(prune_every), name="realtime-prune"))
        logger.info("Realtime server delivering from event %s (%s)", hub.cursor, connection.vendor)
        logger.warning("Realtime capacity: %s clients (open-files limit %s, hard limit %s; %s kept for the "
                       "database, logs and health checks)", capacity.clients, soft, hard, capacity.reserve)

    async def shutdown():
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        for close in closers:
            close()
        await close_db_connections()

    hub.sio_counters, hub.guard = sio.counters, guard
    app = socketio.ASGIApp(sio, other_asgi_app=_health_app(hub, capacity, transport), on_startup=startup, on_shutdown=shutdown)
    app.hub, app.sio, app.guard = hub, sio, guard
    return app


async def _prune_forever(interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            deleted = await run_db(outbox_prune)
            if deleted:
                logger.info("Pruned %d outbox events older than %s hours", deleted, settings.OUTBOX_RETENTION_HOURS)
        except Exception:
            logger.exception("Pruning the outbox failed")


LOOPBACK = {"127.0.0.1", "::1"}


def _is_local_operator(scope) -> bool:
    """A request from this machine itself, not relayed by a proxy (which would add X-Forwarded-For)."""
    client = scope.get("client") or ("", 0)
    relayed = any(name == b"x-forwarded-for" for name, _ in scope.get("headers", []))
    return client[0] in LOOPBACK and not relayed


def _health_app(hub: Hub, capacity: Capacity, transport: fanout.FanOutTransport):
    """GET /healthz: the server is up and reads the outbox (for load balancers): {"status": "ok"}, nothing more;
    503 {"status": "unhealthy"} once reading the outbox has failed for REALTIME_HEALTH_STALE_SECONDS.
    GET /healthz/detail: its counters (event cursor, clients, deliveries), for an operator on this machine
    only: how many alerts the platform carries is not for anyone on the network to read."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        status, body = 404, {"detail": "Not found"}
        failing_for = 0.0 if hub.failing_since is None else time.monotonic() - hub.failing_since
        healthy = hub.failing_since is None or failing_for < settings.REALTIME_HEALTH_STALE_SECONDS
        if scope["path"] == "/healthz":
            status, body = (200, {"status": "ok"}) if healthy else (503, {"status": "unhealthy"})
        elif scope["path"] == "/metrics" and _is_local_operator(scope):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", CONTENT_TYPE_LATEST.encode())]})
            try:
                newest = await run_db(selectors.outbox_newest_id)
            except Exception:  # the metrics still answer; the lag is left out while the outbox cannot be read
                newest = None
            await send({"type": "http.response.body", "body": realtime_metrics(hub, limits_of(hub), newest)})
            return
        elif scope["path"] == "/healthz/detail":
            detail = {"status": "ok" if healthy else "unhealthy", "outbox_failing_for_s": round(failing_for, 1),
                      **hub.stats(), **transport.stats(), **capacity.stats(),
                      "memory_returns": hub.memory.returns}
            status, body = (200 if healthy else 503, detail) if _is_local_operator(scope) \
                else (403, {"detail": "Only from the server's own machine."})
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    return app
