"""Presence in Redis under load (the store every process shares)."""

import asyncio
import time
import uuid

import pytest

from accounts import presence

pytestmark = pytest.mark.redis


async def test_a_storm_of_connects_marks_every_user_online():
    """More sockets at once than a redis-py pool holds by default (100) all register."""
    users = [str(uuid.uuid4()) for _ in range(300)]
    store = presence.store()
    expiry = time.time() + 60
    went_online = await asyncio.gather(*(store.add(u, f"storm-{u}", expiry) for u in users))
    assert all(went_online)
    assert store.online_among(users) == set(users)
    await asyncio.gather(*(store.remove(u, f"storm-{u}") for u in users))


async def test_a_user_goes_offline_once_their_last_socket_is_gone():
    user = str(uuid.uuid4())
    store = presence.store()
    expiry = time.time() + 60
    assert await store.add(user, f"{user}-phone", expiry) is True
    assert await store.add(user, f"{user}-laptop", expiry) is False
    assert await store.remove(user, f"{user}-phone") == 1
    assert await store.end_if_no_sockets(user) is False
    assert store.online_among([user]) == {user}
    assert await store.remove(user, f"{user}-laptop") == 0
    assert await store.end_if_no_sockets(user) is True
    assert await store.end_if_no_sockets(user) is False  # one caller announces it
    assert store.online_among([user]) == set()


async def test_presence_works_after_redis_forgot_its_scripts():
    """A Redis that restarted has no scripts loaded: they are loaded again on first use."""
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    store = presence.store()
    assert await store.add(first, f"{first}-socket", time.time() + 60)
    store._sync.script_flush()
    assert await store.add(second, f"{second}-socket", time.time() + 60)
    assert store.online_among([first, second]) == {first, second}
    assert await store.remove(second, f"{second}-socket") == 0
    await store.remove(first, f"{first}-socket")
