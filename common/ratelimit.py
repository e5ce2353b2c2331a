"""Shared, proxy-aware rate counting: who the client is, and how often it came in a fixed window.

The counters live in the default cache, which every process of a deployment shares (Redis when
REDIS_URL is set, else the database cache), so a limit holds whatever number of workers serve it.
"""

from __future__ import annotations

import ipaddress
import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import connections, router, transaction

CACHE_ALIAS = "default"

# The wall clock the windows are cut from. Tests pin it (the root conftest) so that a run of requests
# never straddles a window boundary by chance.
clock = time.time


def client_address(request) -> str:
    """The address of the client, trusting X-Forwarded-For only as far as TRUSTED_PROXY_COUNT proxies.

    With N trusted proxies in front, each appends the address it saw, so the client is the N-th entry
    from the right; anything further left was written by the client and is ignored. With no trusted
    proxy (the default) the header is never read.
    """
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR") or "unknown"
    proxies = max(0, int(getattr(settings, "TRUSTED_PROXY_COUNT", 0)))
    if proxies == 0:
        return remote
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    candidate = forwarded[-min(proxies, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # A proxy we trust wrote something that is not an address: fall back to the peer itself.
        return remote


@dataclass(frozen=True)
class Window:
    """The count in the current window and the seconds until it starts again."""

    count: int
    reset_in: float


def count(key: str, window: int) -> Window:
    """Count one more hit on `key` in the current fixed window of `window` seconds, for every process."""
    now = clock()
    start = int(now // window) * window
    cache_key = f"rl:{key}:{start}"
    reset_in = start + window - now
    cache = caches[CACHE_ALIAS]
    if not _needs_lock(cache):
        cache.add(cache_key, 0, timeout=window + 1)
        return Window(_incr(cache, cache_key, window), reset_in)
    # The database cache increments with a read and a write; a transaction (plus an advisory lock on
    # PostgreSQL, where reads do not take the write lock) makes the pair atomic across processes.
    alias = router.db_for_write(cache.cache_model_class)
    with transaction.atomic(using=alias):
        connection = connections[alias]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(cache_key.encode()) - 2**31])
        cache.add(cache_key, 0, timeout=window + 1)
        return Window(_incr(cache, cache_key, window), reset_in)


def _incr(cache, cache_key: str, window: int) -> int:
    try:
        return cache.incr(cache_key)
    except ValueError:  # Expired between add() and incr().
        cache.set(cache_key, 1, timeout=window + 1)
        return 1


def _needs_lock(cache) -> bool:
    return cache.__class__.__name__ == "DatabaseCache"


def parse_rate(rate: str) -> tuple[int, int]:
    """'20/hour' -> (20, 3600); the period may be s, sec, m, min, h, hour, d, day (or a number of seconds)."""
    number, _, period = rate.partition("/")
    period = period.strip().lower()
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if period.isdigit():
        return int(number), int(period)
    return int(number), seconds[period[0]]
