"""Who is online, shared by every server process.

A user is online while at least one of their sockets is registered and unexpired. Each
process refreshes its own sockets every PRESENCE_HEARTBEAT_SECONDS with a lifetime of
PRESENCE_TTL_SECONDS and sweeps entries that expired (their process died), so nobody stays
online forever. A user whose last socket closed goes offline after PRESENCE_GRACE_SECONDS
unless a socket came back, so a quick reconnect does not flap.

Storage is Redis when REDIS_URL is set (sorted sets scored by expiry), else this process'
memory (one process only). Redis keys, after REDIS_PREFIX:
- `presence:conns`  socket id -> expiry, every socket of every process
- `presence:owner`  hash socket id -> user id
- `presence:user:<id>`  socket id -> expiry, one user's sockets
- `presence:users`  user id -> latest expiry, the users online now
Redis being unreachable fails open: presence reads say nobody is online.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable

import redis
import redis.asyncio
from django.conf import settings
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

logger = logging.getLogger(__name__)

PREFIX = f"{settings.REDIS_PREFIX}:presence"
CONNS = f"{PREFIX}:conns"
OWNER = f"{PREFIX}:owner"
USERS = f"{PREFIX}:users"
ASYNC_CONNECTIONS = 20

# KEYS: CONNS, OWNER, the user's key, USERS; ARGV: user id, socket id, expiry. Returns the
# user's expiry before (nil if they had none).
ADD_SCRIPT = """
local previous = redis.call('ZSCORE', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[4], 'GT', ARGV[3], ARGV[1])
return previous
"""
# KEYS: CONNS, OWNER, the user's key; ARGV: socket id, now. Returns the live sockets left.
REMOVE_SCRIPT = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return redis.call('ZCOUNT', KEYS[3], ARGV[2], '+inf')
"""
# KEYS: the user's key, USERS; ARGV: user id, now. Returns 1 if it took the user offline.
END_IF_NO_SOCKETS_SCRIPT = """
if redis.call('ZCOUNT', KEYS[1], ARGV[2], '+inf') > 0 then
  return 0
end
return redis.call('ZREM', KEYS[2], ARGV[1])
"""


def user_key(user_id) -> str:
    return f"{PREFIX}:user:{user_id}"


class RedisStore:
    """Presence state in Redis, shared by all processes."""

    def __init__(self, url: str):
        self.url = url
        self._sync = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._async_by_loop = {}
        self._scripts = {}

    def _client(self) -> redis.asyncio.Redis:
        # A redis.asyncio client belongs to the event loop that created it.
        loop = asyncio.get_running_loop()
        if loop not in self._async_by_loop:
            # A storm of connects or disconnects must wait for a connection: redis-py's
            # default pool refuses the 101st with MaxConnectionsError, and that socket's
            # presence would be lost.
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self.url,
                max_connections=ASYNC_CONNECTIONS,
                timeout=2,
                socket_timeout=2,
                socket_connect_timeout=1,
                # Without it the first command on a connection Redis dropped (a restart)
                # fails: the restore after a reconnect would be lost.
                retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
            )
            self._async_by_loop[loop] = redis.asyncio.Redis(connection_pool=pool)
        return self._async_by_loop[loop]

    async def add(self, user_id: str, conn: str, expiry: float) -> bool:
        """Register a socket; True if its user was offline before."""
        keys = [CONNS, OWNER, user_key(user_id), USERS]
        previous = await self._run(ADD_SCRIPT, keys, [user_id, conn, expiry])
        return previous is None or float(previous) < time.time()

    async def remove(self, user_id: str, conn: str) -> int:
        """Unregister a socket; the number of the user's live sockets left."""
        keys = [CONNS, OWNER, user_key(user_id)]
        return await self._run(REMOVE_SCRIPT, keys, [conn, time.time()])

    async def refresh(self, owners: dict[str, str], expiry: float, *, re_add=False) -> None:
        """Extend the sockets' lifetime; `re_add` also restores entries Redis lost."""
        client = self._client()
        async with client.pipeline(transaction=False) as pipe:
            for conn, user_id in owners.items():
                if re_add:
                    pipe.hset(OWNER, conn, user_id)
                pipe.zadd(CONNS, {conn: expiry}, xx=not re_add)
                pipe.zadd(user_key(user_id), {conn: expiry}, xx=not re_add)
                pipe.zadd(USERS, {user_id: expiry}, gt=True)
            await pipe.execute()

    async def take_expired(self, now: float) -> list[tuple[str, str]]:
        """(socket, user) of expired sockets, each handed to exactly one sweeping process."""
        client = self._client()
        taken = []
        for raw_conn in await client.zrangebyscore(CONNS, "-inf", now):
            if await client.zrem(CONNS, raw_conn):
                owner = await client.hget(OWNER, raw_conn)
                await client.hdel(OWNER, raw_conn)
                if owner is not None:
                    await client.zrem(user_key(owner.decode()), raw_conn)
                    taken.append((raw_conn.decode(), owner.decode()))
        return taken

    async def end_if_no_sockets(self, user_id: str) -> bool:
        """Mark the user offline if no live socket is left; True for the one caller that did.
        One script, so a socket registered meanwhile by another process is never missed."""
        keys = [user_key(user_id), USERS]
        return bool(await self._run(END_IF_NO_SOCKETS_SCRIPT, keys, [user_id, time.time()]))

    async def _run(self, script: str, keys: list[str], args: list):
        """Run a Lua script on this loop's client (EVALSHA; loaded again into a Redis that
        restarted empty). A script is atomic, as MULTI/EXEC is, and one command: a
        redis-py pipeline of four or five commands cost about three times its CPU."""
        client = self._client()
        if script not in self._scripts:
            self._scripts[script] = client.register_script(script)
        return await self._scripts[script](keys=keys, args=args, client=client)

    def online_among(self, user_ids: list[str]) -> set[str]:
        if not user_ids:
            return set()
        scores = self._sync.zmscore(USERS, user_ids)
        now = time.time()
        return {uid for uid, score in zip(user_ids, scores, strict=True) if score and score > now}

    def online_user_ids(self) -> set[str]:
        return {uid.decode() for uid in self._sync.zrangebyscore(USERS, time.time(), "+inf")}

    def counts(self) -> dict:
        now = time.time()
        return {
            "connections": self._sync.zcount(CONNS, now, "+inf"),
            "online_users": self._sync.zcount(USERS, now, "+inf"),
        }


class MemoryStore:
    """The same state in this process' memory, for the single-process embedded default."""

    def __init__(self):
        self._lock = threading.Lock()
        self._conns: dict[str, tuple[str, float]] = {}

    def _live_users(self, now: float) -> set[str]:
        return {user for user, expiry in self._conns.values() if expiry > now}

    async def add(self, user_id: str, conn: str, expiry: float) -> bool:
        with self._lock:
            was_offline = user_id not in self._live_users(time.time())
            self._conns[conn] = (user_id, expiry)
        return was_offline

    async def remove(self, user_id: str, conn: str) -> int:
        with self._lock:
            self._conns.pop(conn, None)
            now = time.time()
            return sum(1 for user, exp in self._conns.values() if user == user_id and exp > now)

    async def refresh(self, owners: dict[str, str], expiry: float, *, re_add=False) -> None:
        with self._lock:
            for conn, user_id in owners.items():
                if conn in self._conns:
                    self._conns[conn] = (user_id, expiry)

    async def take_expired(self, now: float) -> list[tuple[str, str]]:
        with self._lock:
            expired = [(c, u) for c, (u, exp) in self._conns.items() if exp <= now]
            for conn, _ in expired:
                del self._conns[conn]
        return expired

    async def end_if_no_sockets(self, user_id: str) -> bool:
        with self._lock:
            return user_id not in self._live_users(time.time())

    def online_among(self, user_ids: list[str]) -> set[str]:
        with self._lock:
            return self._live_users(time.time()) & set(user_ids)

    def online_user_ids(self) -> set[str]:
        with self._lock:
            return self._live_users(time.time())

    def counts(self) -> dict:
        with self._lock:
            now = time.time()
            live = [user for user, exp in self._conns.values() if exp > now]
        return {"connections": len(live), "online_users": len(set(live))}


_store = None


def store() -> RedisStore | MemoryStore:
    global _store
    if _store is None:
        _store = RedisStore(settings.REDIS_URL) if settings.REDIS_URL else MemoryStore()
    return _store


def online_among(user_ids: Iterable) -> set[str]:
    """The ids (as strings) of those of `user_ids` who have a socket open now."""
    try:
        return store().online_among([str(uid) for uid in user_ids])
    except redis.RedisError:
        logger.warning("presence unavailable; reporting nobody online")
        return set()


def online_user_ids() -> set[str]:
    """Everyone online now (for moderators' filters; users see only their contacts)."""
    try:
        return store().online_user_ids()
    except redis.RedisError:
        logger.warning("presence unavailable; reporting nobody online")
        return set()


def counts() -> dict:
    try:
        return store().counts()
    except redis.RedisError:
        return {"connections": None, "online_users": None}


PresenceCallback = Callable[[str], Awaitable[None]]


class Tracker:
    """This process' sockets: registers them, keeps them alive and sweeps the dead.

    `connected` says whether the user went online with that socket (the consumer then
    publishes `presence`); `on_offline(user_id)` is called when a user goes offline,
    whichever process notices (the consumer publishes `presence` and stores `last_seen`).
    """

    def __init__(self):
        self.owners: dict[str, str] = {}
        self.on_offline: PresenceCallback | None = None
        self._heartbeat: asyncio.Task | None = None

    @staticmethod
    def _expiry() -> float:
        return time.time() + settings.PRESENCE_TTL_SECONDS

    async def connected(self, user_id: str, conn: str) -> bool:
        """Register a socket; whether its user went online with it."""
        self.owners[conn] = user_id
        self._ensure_heartbeat()
        try:
            return await store().add(user_id, conn, self._expiry())
        except redis.RedisError:
            logger.warning("presence unavailable; %s not marked online", user_id)
            return False

    async def disconnected(self, user_id: str, conn: str) -> None:
        self.owners.pop(conn, None)
        try:
            remaining = await store().remove(user_id, conn)
        except redis.RedisError:
            return
        if not remaining:
            asyncio.get_running_loop().create_task(self._offline_after_grace(user_id))

    async def _offline_after_grace(self, user_id: str) -> None:
        await asyncio.sleep(settings.PRESENCE_GRACE_SECONDS)
        await self._offline_if_no_sockets(user_id)

    async def _offline_if_no_sockets(self, user_id: str) -> None:
        try:
            went_offline = await store().end_if_no_sockets(user_id)
        except redis.RedisError:
            return
        if went_offline and self.on_offline:
            await self.on_offline(user_id)

    def _ensure_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat_forever())

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(settings.PRESENCE_HEARTBEAT_SECONDS)
            await self.beat()

    async def restore(self) -> None:
        """Register this process' sockets again (Redis may have restarted empty)."""
        try:
            await store().refresh(dict(self.owners), self._expiry(), re_add=True)
        except redis.RedisError:
            logger.warning("presence restore failed; retrying next beat")

    async def beat(self) -> None:
        """Refresh this process' sockets, then sweep sockets of processes that died."""
        try:
            await store().refresh(dict(self.owners), self._expiry())
            for _, user_id in await store().take_expired(time.time()):
                await self._offline_if_no_sockets(user_id)
        except redis.RedisError:
            logger.warning("presence heartbeat failed; retrying next beat")


tracker = Tracker()
