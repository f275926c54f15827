"""The per-user send rate (THROTTLE_SEND), shared by REST and the socket through the cache.

A sliding-window counter: the count of the current fixed window plus the previous window's,
weighted by how much of it still overlaps the last `duration` seconds. Two cache keys per
user, no bursts of twice the rate at a window boundary, and every process sees one count.
Every send passes here, so on Redis a check is one round trip.
"""

import logging
import math
import time
import weakref

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_write_clients: "weakref.WeakKeyDictionary[RedisCache, object]" = weakref.WeakKeyDictionary()


def parse_rate(rate: str) -> tuple[int, int]:
    """DRF's rate form, `N/s`, `N/min`, `N/hour`, `N/day` -> (N, seconds)."""
    count, period = rate.split("/")
    return int(count), PERIOD_SECONDS[period.strip()[0]]


def send_rate_check(user) -> int | None:
    """Count one send by `user`; None if allowed, else the seconds to wait (nothing counted).

    Fails open: with the cache unreachable every send is allowed.
    """
    limit, duration = parse_rate(settings.THROTTLE_SEND)
    now = time.time()
    window = int(now // duration)
    key = f"send-rate:{user.pk}:{window}"
    try:
        current, previous = _count(key, f"send-rate:{user.pk}:{window - 1}", duration * 2)
        elapsed = now - window * duration
        if previous * (1 - elapsed / duration) + current <= limit:
            return None
        cache.decr(key)
    except Exception:
        logger.warning("send throttle unavailable; allowing the send", exc_info=True)
        return None
    return _retry_after(limit, duration, previous, current - 1, elapsed)


def _count(key: str, previous_key: str, timeout: int) -> tuple[int, int]:
    """Add one to the counter `key` (kept `timeout` seconds) and read `previous_key`: (new
    count, previous count). On Redis in one pipeline on the cache's own connections (the
    cache API would take four round trips: add, exists, incr, get); Django's Redis cache
    stores integers as they are, so the cache API reads and decrements these counters."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        backend.add(key, 0, timeout=timeout)
        return backend.incr(key), backend.get(previous_key, 0)
    key, previous_key = (
        backend.make_and_validate_key(key),
        backend.make_and_validate_key(previous_key),
    )
    pipeline = _write_client(backend).pipeline(transaction=False)
    current, _, previous = pipeline.incr(key).expire(key, timeout).get(previous_key).execute()
    return current, int(previous or 0)


def _write_client(backend: RedisCache):
    """The cache's Redis client for writes, kept per cache instance (Django keeps one per
    thread): its get_client() builds a new client, and its table of response callbacks, on
    every call, ~60 µs of a check's ~250."""
    client = _write_clients.get(backend)
    if client is None:
        client = _write_clients[backend] = backend._cache.get_client(write=True)
    return client


def _retry_after(limit: int, duration: int, previous: int, current: int, elapsed: float) -> int:
    """Seconds until one more send fits under the sliding count."""
    room = limit - 1 - current
    if room >= 0 and previous:
        wait = duration * (1 - room / previous) - elapsed
    else:
        wait = (duration - elapsed) + duration * max(0.0, 1 - (limit - 1) / max(current, 1))
    return max(1, math.ceil(wait))
