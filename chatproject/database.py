"""The threads that run the sockets' database work.

Channels' `database_sync_to_async` runs every call of a process on one thread (asgiref's
thread-sensitive default), so each socket's send waits for every other socket's database
round trips. Socket code uses `database_call` instead: a pool of DB_POOL_MAX threads, each
with its own connection, which Channels returns to the connection pool after every call.
A socket handles its frames one at a time, so its own calls still run in order.
"""

from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from django.conf import settings

executor = ThreadPoolExecutor(max_workers=settings.DB_POOL_MAX, thread_name_prefix="database")


def database_call(function):
    """`function` as a coroutine function that runs on the pool (usable as a decorator)."""
    return database_sync_to_async(function, thread_sensitive=False, executor=executor)
