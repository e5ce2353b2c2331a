"""Signed-in sockets live only as long as their API token: sign-out, expiry or a deactivated account
closes them within REALTIME_SESSION_CHECK_SECONDS."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from django.utils import timezone

from accounts.selectors import live_token_digests
from realtime_server.db import run_db

logger = logging.getLogger(__name__)

CHUNK = 500


class SessionGuard:
    def __init__(self, disconnect: Callable[[str], Awaitable[None]], *, interval: float):
        self.disconnect = disconnect
        self.interval = interval
        self.digest_by_sid: dict[str, str] = {}
        self.closed = 0

    def watch(self, sid: str, token_digest: str | None) -> None:
        if token_digest:
            self.digest_by_sid[sid] = token_digest

    def forget(self, sid: str) -> None:
        self.digest_by_sid.pop(sid, None)

    async def check(self) -> int:
        """Disconnect every socket whose token is no longer valid; returns how many were closed."""
        watched = dict(self.digest_by_sid)
        digests = sorted(set(watched.values()))
        live: set[str] = set()
        now = timezone.now()
        for start in range(0, len(digests), CHUNK):
            live |= await run_db(live_token_digests, digests[start:start + CHUNK], now=now)
        dead = [sid for sid, digest in watched.items() if digest not in live]
        for sid in dead:
            self.forget(sid)
            await self.disconnect(sid)
        self.closed += len(dead)
        if dead:
            logger.info("Closed %d sockets whose token was signed out, expired or deactivated", len(dead))
        return len(dead)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:
                logger.exception("Checking the sockets' tokens failed; retrying")
