"""Django ORM calls from the event loop: run in a small pool of threads, each with its own connection."""

import asyncio
import functools
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import Error, connection, connections

# A few threads: the live loop, joins replaying and the pruner read at once; each thread keeps one connection.
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="realtime-db")


def _call(fn, args, kwargs):
    try:
        return fn(*args, **kwargs)
    except Error:
        # The connection may be broken (database restarted); the next call in this thread opens a new one.
        try:
            connection.close()
        except Error:
            pass
        raise


async def run_db(fn, /, *args, **kwargs):
    return await asyncio.get_running_loop().run_in_executor(_executor, functools.partial(_call, fn, args, kwargs))


async def close_db_connections() -> None:
    """Close the connection of every pool thread (at shutdown, and in tests before the test database is dropped)."""
    workers = _executor._max_workers
    # Each task waits for all the others, so every one of them runs in a thread of its own.
    barrier = threading.Barrier(workers)

    def close():
        barrier.wait(timeout=10)
        connections.close_all()

    await asyncio.gather(*(asyncio.get_running_loop().run_in_executor(_executor, close) for _ in range(workers)))
