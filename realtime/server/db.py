"""Django ORM calls from the event loop: run in a small pool of threads, each with its own connection."""

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor

from django.db import Error, connection

# A few threads: the live loop, joins replaying and the pruner read at once; each thread keeps one connection.
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="realtime-db")


def _call(fn, args, kwargs):
    try:
        return fn(*args, **kwargs)
    except Error:
        # The connection may be broken (database restarted); the next call in this thread opens a new one.
        connection.close()
        raise


async def run_db(fn, /, *args, **kwargs):
    return await asyncio.get_running_loop().run_in_executor(_executor, functools.partial(_call, fn, args, kwargs))
