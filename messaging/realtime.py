"""The only module that publishes to the channel layer (local_groups.py receives).

Services call these functions inside their transaction; the event goes out after the
commit (`transaction.on_commit(..., robust=True)`), so a socket never hears of a row that
was rolled back. Each event is serialised once, here, and every consumer writes the text as
it is. A failed publish is logged and counted: the data is stored and `changes?since=`
covers the lost event, so it never fails the request.

Groups: `user.<id>` holds every socket of a person, `chat.<id>` every socket whose user is
a member, and `users` every socket (so every process with one). Every layer message carries
its `group`; the types, and what local_groups.py and the consumer do with them:
- `event.forward` {text, skip_user?}: write `text` (unless the socket's user is skip_user).
- `users.forward` {user_ids, text}, to `users`: write `text` to the sockets of those users.
  One publish reaches all of a person's contacts (presence), where one per contact's
  `user.<id>` group took a Redis round trip each, in turn: the layer publishes one at a
  time per process, and a reconnect storm queued behind them.
- `chat.join` {chat_id, text}: join `chat.<id>`, then write `text` (`chat_created`).
- `chat.leave` {chat_id, text}: leave `chat.<id>`, then write `text` (`chat_deleted`).
- `sessions.end` {sids}: close the sockets of those sessions with 4401.
"""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from chatproject.database import on_caller_loop
from chatproject.renderers import json_bytes

logger = logging.getLogger(__name__)


class PublishStats:
    failures = 0


def chat_group(chat_id) -> str:
    return f"chat.{chat_id}"


def user_group(user_id) -> str:
    return f"user.{user_id}"


USERS_GROUP = "users"


def to_json(payload: dict) -> str:
    return json_bytes(payload).decode()


def publish_to_chat(chat_id, payload: dict, *, skip_user_id=None) -> None:
    """Send `payload` to every socket in the chat (but those of `skip_user_id`)."""
    message = {"type": "event.forward", "text": to_json(payload)}
    if skip_user_id is not None:
        message["skip_user"] = str(skip_user_id)
    _send_on_commit(chat_group(chat_id), message)


async def publish_to_chat_now(chat_id, payload: dict, *, skip_user_id=None) -> None:
    """From async code, for events with no transaction behind them (typing)."""
    message = {"type": "event.forward", "text": to_json(payload), "skip_user": str(skip_user_id)}
    await _send_now_async(chat_group(chat_id), message)


async def publish_to_users_now(user_ids, payload: dict) -> None:
    """From async code, to several people's sockets (presence), in one message."""
    user_ids = [str(user_id) for user_id in user_ids]
    if user_ids:
        message = {"type": "users.forward", "user_ids": user_ids, "text": to_json(payload)}
        await _send_now_async(USERS_GROUP, message)


async def _send_now_async(group: str, message: dict) -> None:
    try:
        await get_channel_layer().group_send(group, {**message, "group": group})
    except Exception:
        PublishStats.failures += 1
        logger.exception("publish to %s failed; clients catch up with changes", group)


def publish_chat_joined(user_id, chat_id, payload: dict) -> None:
    """Every socket of the user joins the chat's group, then hears `payload`."""
    message = {"type": "chat.join", "chat_id": str(chat_id), "text": to_json(payload)}
    _send_on_commit(user_group(user_id), message)


def publish_chat_left(user_id, chat_id, payload: dict) -> None:
    message = {"type": "chat.leave", "chat_id": str(chat_id), "text": to_json(payload)}
    _send_on_commit(user_group(user_id), message)


def publish_sessions_ended(user_id, sids) -> None:
    message = {"type": "sessions.end", "sids": [str(sid) for sid in sids]}
    _send_on_commit(user_group(user_id), message)


def _send_on_commit(group: str, message: dict) -> None:
    transaction.on_commit(lambda: send_now(group, message), robust=True)


def send_now(group: str, message: dict) -> None:
    """From sync code. A socket's database thread hands the publish to its event loop."""
    if not on_caller_loop(_send_now_async, group, message):
        async_to_sync(_send_now_async)(group, message)


class LayerWatcher:
    """Runs `on_reconnect()` each time this process' pub/sub connection to Redis comes back.

    channels-redis never calls its documented on_disconnect/on_reconnect hooks. redis-py
    re-subscribes a pub/sub connection's channels when it reconnects and then runs the
    connection's connect callbacks, so one registered here hears of every reconnection, however
    short the outage (a periodic probe misses those between two probes), once the subscriptions
    are back. Events published meanwhile are lost: the consumer sends `resync` to its sockets
    and clients catch up with `changes`. The connections are channels-redis 4 internals
    (`_shards`, `_pubsub`): chatproject/tests/test_faults.py fails if an upgrade moves them.
    """

    def __init__(self):
        self.on_reconnect = None
        self._tasks = set()

    def ensure_running(self) -> None:
        """Watch the layer's pub/sub connections (they exist once a socket has subscribed)."""
        for shard in getattr(get_channel_layer(), "_shards", []):
            pubsub = getattr(shard, "_pubsub", None)
            if pubsub is not None and pubsub.connection is not None:
                pubsub.connection.register_connect_callback(self._reconnected)

    async def _reconnected(self, connection) -> None:
        if self.on_reconnect:
            # Not awaited: the connection's reader must not wait for every socket's resync.
            task = asyncio.get_running_loop().create_task(self.on_reconnect())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


layer_watcher = LayerWatcher()
