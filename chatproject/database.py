"""The threads that run the sockets' database work, and HTTP requests' sync code.

Channels' `database_sync_to_async` runs every call of a process on one thread (asgiref's
thread-sensitive default), so each socket's send waits for every other socket's database
round trips. Socket code uses `database_call` instead: a pool of DB_POOL_MAX threads, each
with its own connection, returned to the connection pool after every call. A socket
handles its frames one at a time, so its own calls still run in order.

Work that belongs on the event loop (a publish after the commit) need not hold the thread
while it waits for the loop: `on_caller_loop` starts it there, and the call returns once
it is done.

HTTP requests go through `PooledASGIHandler`, Django's ASGI handler with one change: the
thread that runs a request's sync code (middleware, view, their database connection) is
taken from a pool and given back, where asgiref starts a thread for every request and
joins it at the end (~0.8 ms of CPU per request, a third of a `GET /health/live`).
"""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections

# Idle request threads kept for the next requests; a burst beyond them gets threads that
# end with their request.
REQUEST_THREADS_KEPT = 16

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


class RequestThreads:
    """Single-thread executors, one per request in progress, reused. Only the event loop
    takes and gives back, so the idle list needs no lock."""

    def __init__(self, *, kept: int):
        self.kept = kept
        self.idle: list[ThreadPoolExecutor] = []

    def take(self) -> ThreadPoolExecutor:
        if self.idle:
            return self.idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        if len(self.idle) < self.kept:
            self.idle.append(executor)
        else:
            executor.shutdown(wait=False)


class PooledASGIHandler(ASGIHandler):
    """Django's ASGIHandler, each request's sync code on a thread from `RequestThreads`.

    Django enters asgiref's ThreadSensitiveContext for each request, so that all of the
    request's sync code runs on one thread of its own; given an executor, the context uses
    it and leaves it running."""

    threads = RequestThreads(kept=REQUEST_THREADS_KEPT)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self.threads.take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(executor)
