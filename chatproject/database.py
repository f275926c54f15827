"""The threads that run the sockets' database work.

Channels' `database_sync_to_async` runs every call of a process on one thread (asgiref's
thread-sensitive default), so each socket's send waits for every other socket's database
round trips. Socket code uses `database_call` instead: a pool of DB_POOL_MAX threads, each
with its own connection, returned to the connection pool after every call. A socket
handles its frames one at a time, so its own calls still run in order.

Work that belongs on the event loop (a publish after the commit) need not hold the thread
while it waits for the loop: `on_caller_loop` starts it there, and the call returns once
it is done.
"""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections

executor = ThreadPoolExecutor(max_workers=settings.DB_POOL_MAX, thread_name_prefix="database")


class _Call(threading.local):
    loop = None
    started = None


_call = _Call()


def database_call(function):
    """`function` as a coroutine function that runs on the pool (usable as a decorator)."""

    def run(loop, started, *args, **kwargs):
        _call.loop, _call.started = loop, started
        try:
            return function(*args, **kwargs)
        finally:
            _call.loop = _call.started = None
            # Channels does this too, but its test communicator turns its own call off: the
            # threads would then hold pooled connections and starve the rest of the process.
            close_old_connections()

    threaded = database_sync_to_async(run, thread_sensitive=False, executor=executor)

    async def call(*args, **kwargs):
        started = []
        try:
            return await threaded(asyncio.get_running_loop(), started, *args, **kwargs)
        finally:
            for future in started:
                await asyncio.wrap_future(future)

    return call


def on_caller_loop(coroutine_function, *args) -> bool:
    """From a `database_call` thread, start `coroutine_function(*args)` on the caller's event
    loop without waiting for it; the call awaits it before it returns. False elsewhere."""
    if _call.loop is None:
        return False
    coroutine = coroutine_function(*args)
    _call.started.append(asyncio.run_coroutine_threadsafe(coroutine, _call.loop))
    return True
