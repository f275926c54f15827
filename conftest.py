"""Fixtures shared by every app's tests: a fixed cast, API clients, and captured events."""

import gc
import os
import time
import uuid

import pytest
import redis
from asgiref.sync import async_to_sync
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from accounts import presence
from accounts.tests.factories import UserFactory
from messaging.tests.events import EventListener

# The fuzz tests (test_fuzz_*.py) explore new inputs on every local run; CI replays the same
# ones, so a red CI is always the commit's doing.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI") == "true":
    hypothesis_settings.load_profile("ci")


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def charlie(db):
    return UserFactory(username="charlie")


@pytest.fixture
def api():
    """An anonymous client."""
    return APIClient()


@pytest.fixture
def client_for(db):
    """client_for(user) -> an APIClient logged in as `user` with a real session."""
    from accounts.services import session_start

    def make(user) -> APIClient:
        tokens = session_start(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        client.tokens = tokens
        return client

    return make


@pytest.fixture
def events(db, settings):
    """Listens on channel-layer groups. The test's transaction never commits, so reading the
    events first runs the on-commit callbacks (the publishes) queued so far.

    What a service publishes is read back from the in-memory layer, also when REDIS_URL is
    set; delivery through Redis is what the consumer and end-to-end tests cover.
    """
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return EventListener()


@pytest.fixture
def mark_online():
    """mark_online(user): the user has a live socket until the test ends."""
    sockets = []

    def mark(user):
        socket = f"test-{uuid.uuid4()}"
        async_to_sync(presence.store().add)(str(user.pk), socket, time.time() + 60)
        sockets.append((str(user.pk), socket))

    yield mark
    for user_id, socket in sockets:
        async_to_sync(presence.store().remove)(user_id, socket)
        async_to_sync(presence.store().end_if_no_sockets)(user_id)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Every test starts with empty throttle counters. On Redis only this prefix's cache keys
    go: `cache.clear()` would flush the whole database, presence and other users' keys too."""
    from django.core.cache import cache

    if not settings.REDIS_URL:
        cache.clear()
        return
    client = redis.Redis.from_url(settings.REDIS_URL)
    stale = list(client.scan_iter(cache.make_key("*"), count=1000))
    if stale:
        client.delete(*stale)


@pytest.fixture(scope="session", autouse=True)
def database_threads_finish(django_db_setup):
    """Sockets' database work runs on chatproject.database's threads, each holding its own
    connection: they finish and let go of them before the test database is dropped."""
    yield
    from chatproject.database import executor

    executor.shutdown(wait=True)
    gc.collect()


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` or `redis` skip without that service, unless REQUIRE_SERVICES=1
    (as in .ci/run), where a missing service fails them instead."""
    from django.conf import settings
    from django.db import connection

    missing = {
        "postgres": connection.vendor != "postgresql",
        "redis": not settings.REDIS_URL,
    }
    for item in items:
        for service, absent in missing.items():
            if absent and item.get_closest_marker(service):
                reason = f"needs {service}: set DATABASE_URL/REDIS_URL (see README)"
                if os.environ.get("REQUIRE_SERVICES") == "1":
                    raise pytest.UsageError(f"{item.nodeid} {reason}")
                item.add_marker(pytest.mark.skip(reason=reason))
