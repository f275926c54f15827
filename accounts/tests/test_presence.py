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
