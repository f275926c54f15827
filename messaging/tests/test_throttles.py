import time

import pytest

from messaging.throttles import parse_rate, send_rate_check


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def counting_cache(request, settings):
    """The counts live in Redis when it is configured (one pipeline), else in the cache API:
    both ways count alike."""
    if request.param == "memory":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def test_rates_parse_like_drf():
    assert parse_rate("60/min") == (60, 60)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("100/hour") == (100, 3600)


def test_sends_beyond_the_rate_are_told_how_long_to_wait(alice, bob, settings, counting_cache):
    settings.THROTTLE_SEND = "3/hour"
    assert [send_rate_check(alice) for _ in range(3)] == [None, None, None]
    retry_after = send_rate_check(alice)
    assert retry_after is not None and 1 <= retry_after <= 2 * 3600
    assert send_rate_check(alice) is not None
    assert send_rate_check(bob) is None


def test_the_previous_window_still_counts_in_part(alice, settings, monkeypatch, counting_cache):
    settings.THROTTLE_SEND = "10/min"
    start = (time.time() // 60 + 1) * 60  # the start of a window
    monkeypatch.setattr(time, "time", lambda: start - 1)
    assert all(send_rate_check(alice) is None for _ in range(10))
    monkeypatch.setattr(time, "time", lambda: start + 3)  # 95% of the last minute overlaps
    assert send_rate_check(alice) is not None
    monkeypatch.setattr(time, "time", lambda: start + 12)  # 80%: 8 of 10 still count
    assert [send_rate_check(alice) is None for _ in range(3)] == [True, True, False]


def test_a_cache_that_is_down_lets_sends_through(alice, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    assert send_rate_check(alice) is None
