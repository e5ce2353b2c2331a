"""Limits that keep one client from knocking the realtime server over.

- Message size: uvicorn refuses WebSocket messages over REALTIME_MAX_MESSAGE_BYTES (run_realtime), so an
  oversized frame is never buffered; Engine.IO applies the same bound to long-polling bodies.
- Message rate: each connection may send REALTIME_MAX_MESSAGES_PER_SECOND, with bursts up to
  REALTIME_MESSAGE_BURST; a connection beyond that is closed (a real client sends a handful of joins).
- Sessions that have not signed in: at most REALTIME_MAX_UNAUTHENTICATED at once, each given
  REALTIME_AUTH_TIMEOUT_SECONDS to authenticate before it is closed.
"""

import asyncio
import logging
import time

import socketio

logger = logging.getLogger(__name__)


class TokenBucket:
    def __init__(self, *, rate: float, burst: float, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens, self.stamp = burst, clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class GuardedAsyncServer(socketio.AsyncServer):
    """python-socketio's server with the limits above, applied to every Engine.IO session."""

    def __init__(self, *args, max_unauthenticated: int, auth_timeout: float, message_rate: float,
                 message_burst: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_unauthenticated = max_unauthenticated
        self.auth_timeout = auth_timeout
        self.message_rate, self.message_burst = message_rate, message_burst
        self._unauthenticated: dict[str, asyncio.TimerHandle] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self.counters = {"refused_unauthenticated": 0, "closed_unauthenticated": 0, "closed_for_rate": 0}

    async def _handle_eio_connect(self, eio_sid, environ):
        if len(self._unauthenticated) >= self.max_unauthenticated:
            self.counters["refused_unauthenticated"] += 1
            return False
        await super()._handle_eio_connect(eio_sid, environ)
        loop = asyncio.get_running_loop()
        self._unauthenticated[eio_sid] = loop.call_later(
            self.auth_timeout, lambda: loop.create_task(self._close_unauthenticated(eio_sid)))
        return True

    async def _close_unauthenticated(self, eio_sid):
        if self._unauthenticated.pop(eio_sid, None) is not None:
            self.counters["closed_unauthenticated"] += 1
            await self.eio.disconnect(eio_sid)

    async def _handle_connect(self, eio_sid, namespace, data):
        await super()._handle_connect(eio_sid, namespace, data)
        if self.manager.sid_from_eio_sid(eio_sid, namespace or "/") is not None:
            timer = self._unauthenticated.pop(eio_sid, None)
            if timer is not None:
                timer.cancel()

    async def _handle_eio_message(self, eio_sid, data):
        bucket = self._buckets.get(eio_sid)
        if bucket is None:
            bucket = self._buckets[eio_sid] = TokenBucket(rate=self.message_rate, burst=self.message_burst)
        if not bucket.take():
            self.counters["closed_for_rate"] += 1
            logger.warning("Closing realtime session %s: more than %s messages per second",
                           eio_sid, self.message_rate)
            self._buckets.pop(eio_sid, None)
            await self.eio.disconnect(eio_sid)
            return
        await super()._handle_eio_message(eio_sid, data)

    async def _handle_eio_disconnect(self, eio_sid, reason):
        timer = self._unauthenticated.pop(eio_sid, None)
        if timer is not None:
            timer.cancel()
        self._buckets.pop(eio_sid, None)
        await super()._handle_eio_disconnect(eio_sid, reason)
