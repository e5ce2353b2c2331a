"""How many clients one realtime process can hold: one open file per connection, under the open-files limit.

At the limit the kernel refuses `accept()`: new clients time out, `/healthz` stops answering and nothing
says why. So the server stops admitting Socket.IO clients a margin below it (the margin keeps files for
the database, logs and health checks), answers the refused ones with a clear `connect_error`, and warns
as it nears the limit.
"""

import asyncio
import ctypes
import ctypes.util
import gc
import logging
import os
import resource
import time

logger = logging.getLogger(__name__)

WARN_AT = 0.9  # of the capacity


def raise_open_files_limit() -> tuple[int, int]:
    """Raise the soft open-files limit to the hard one (as far as this process may); returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            logger.warning("Could not raise the open-files limit from %s to %s: %s", soft, target, exc)
    return soft, hard


def open_files() -> int:
    """Files this process has open (Linux); elsewhere None-safe: 0, and only the client count is used."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


class Capacity:
    """Admits clients while open files stay below `limit - reserve`."""

    def __init__(self, *, limit: int, reserve: int | None = None):
        self.limit = limit
        self.reserve = reserve if reserve is not None else max(100, limit // 20)
        self.clients = max(self.limit - self.reserve, 0)
        self._warned_at: dict[str, float] = {}

    def admit(self, connected: int) -> bool:
        """Whether one more client fits; `connected` is the number of clients now."""
        in_use = max(open_files(), connected)
        if in_use >= self.clients:
            self._warn("full", f"Refusing new clients: {in_use} files open, capacity {self.clients} "
                       f"(open-files limit {self.limit}); raise the limit or add a process.")
            return False
        if in_use >= WARN_AT * self.clients:
            self._warn("near", f"Nearing capacity: {in_use} files open of {self.clients} "
                       f"(open-files limit {self.limit}).")
        return True

    def _warn(self, kind: str, message: str) -> None:
        now = time.monotonic()
        if now - self._warned_at.get(kind, -10.0) >= 10:  # each at most every 10 s: a full server is asked constantly
            self._warned_at[kind] = now
            logger.warning(message)

    def stats(self) -> dict:
        return {"capacity": self.clients, "open_files": open_files(), "open_files_limit": self.limit}


class MemoryReturner:
    """Gives memory back to the system after many clients leave.

    A client's buffers and objects are freed when it leaves, but the C allocator keeps the freed pages
    for reuse: after a crowd disconnects, the process would stay at its peak size. Whenever the client
    count has halved since the last return, and at least `min_left` clients have gone, a return is due:
    collect garbage and ask glibc to release its free pages (`malloc_trim`).

    A full `gc.collect()` walks every object of the process (0.3-0.8 s at 2,000-4,000 clients), on the
    event loop. Done at each halving while a crowd of N leaves, that was log2(N) full collections, each
    while most clients were still there, and nothing else was answered meanwhile (the largest part of a
    mass disconnect, docs/benchmarks.md "Mass disconnect"). So a due return waits until the client count
    has been still for `settle` seconds (the crowd has gone; one collection, of a small heap), or at most
    `max_wait` seconds under a steady stream. Outside an event loop it is done at once.

    A departed client's connection is not all free by then: Engine.IO's ping task for it sleeps up to a ping
    interval before it notices, and its service task holds a copy of the socket list for up to a ping
    timeout. So, where `linger` is given (the app passes the longer of the two, plus a margin), one more
    return follows that long after the first, when those have let go: without it the memory stayed with the
    process (85 KB per client kept; `bench/bench_fanout.py --waves`).
    """

    def __init__(self, *, min_left: int = 250, settle: float = 2.0, max_wait: float = 30.0, linger: float = 0.0,
                 clock=time.monotonic):
        self.min_left = min_left
        self.settle, self.max_wait, self.linger, self.clock = settle, max_wait, linger, clock
        self._follow_up: asyncio.TimerHandle | None = None
        self.peak = 0  # the most clients since memory was last given back
        self.returns = 0  # how many times memory was given back
        self._timer: asyncio.TimerHandle | None = None
        self._due_since = self._changed_at = 0.0
        libc = ctypes.util.find_library("c")
        self._trim = getattr(ctypes.CDLL(libc), "malloc_trim", None) if libc else None

    def clients_changed(self, clients: int) -> bool:
        """Call after a client joins or leaves; returns whether a memory return became due."""
        self._changed_at = self.clock()
        self.peak = max(self.peak, clients)
        if clients > self.peak // 2 or self.peak - clients < self.min_left:
            return False
        self.peak = clients
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.give_back()
            return True
        if self._timer is None:  # one pending return covers every halving until it runs
            self._due_since = self._changed_at
            self._timer = loop.call_later(self.settle, self._settled, loop)
        return True

    def _settled(self, loop) -> None:
        now = self.clock()
        still_for = now - self._changed_at
        if still_for < self.settle and now - self._due_since < self.max_wait:
            self._timer = loop.call_later(self.settle - still_for, self._settled, loop)
            return
        self._timer = None
        self.give_back()
        if self.linger and self._follow_up is None:
            self._follow_up = loop.call_later(self.linger, self._linger_over)

    def _linger_over(self) -> None:
        self._follow_up = None
        self.give_back()

    def give_back(self) -> None:
        gc.collect()
        if self._trim is not None:
            self._trim(0)
        self.returns += 1
