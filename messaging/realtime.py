"""The only module that talks to the channel layer.

Services call these functions inside their transaction; the event goes out after the
commit (`transaction.on_commit(..., robust=True)`), so a socket never hears of a row that
was rolled back. Each event is serialised once, here, and every consumer writes the text as
it is. A failed publish is logged and counted: the data is stored and `changes?since=`
covers the lost event, so it never fails the request.

Groups: `user.<id>` holds every socket of a person, `chat.<id>` every socket whose user is
a member. Layer messages and the consumer handlers that receive them:
- `event.forward` {text, skip_user?}: write `text` (unless the socket's user is skip_user).
- `chat.join` {chat_id, text}: join `chat.<id>`, then write `text` (`chat_created`).
- `chat.leave` {chat_id, text}: leave `chat.<id>`, then write `text` (`chat_deleted`).
- `sessions.end` {sids}: close the sockets of those sessions with 4401.
"""

import asyncio
import logging

import orjson
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from rest_framework.utils.encoders import JSONEncoder

logger = logging.getLogger(__name__)


class PublishStats:
    failures = 0


def chat_group(chat_id) -> str:
    return f"chat.{chat_id}"


def user_group(user_id) -> str:
    return f"user.{user_id}"


def to_json(payload: dict) -> str:
    return orjson.dumps(payload, default=JSONEncoder().default).decode()


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
    """From async code, to several people's sockets (presence); serialised once."""
    message = {"type": "event.forward", "text": to_json(payload)}
    for user_id in user_ids:
        await _send_now_async(user_group(user_id), message)


async def _send_now_async(group: str, message: dict) -> None:
    try:
        await get_channel_layer().group_send(group, message)
    except Exception:
        PublishStats.failures += 1
        logger.exception("publish to %s failed", group)


def publish_to_user(user_id, payload: dict) -> None:
    _send_on_commit(user_group(user_id), {"type": "event.forward", "text": to_json(payload)})


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
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:
        PublishStats.failures += 1
        logger.exception("publish to %s failed; clients catch up with changes", group)


class LayerWatcher:
    """Notices when this process' channel-layer connection comes back after a loss.

    channels-redis never calls its documented on_disconnect/on_reconnect hooks, so every
    PROBE_SECONDS a probe message goes through Redis to this process and back. When a probe
    succeeds after one failed, events may have been dropped meanwhile: `on_reconnect()` runs
    (the consumer sends `resync` to its sockets, and clients catch up with `changes`).
    """

    PROBE_SECONDS = 2
    PROBE_TIMEOUT_SECONDS = 3

    def __init__(self):
        self.on_reconnect = None
        self._task = None
        self._probe_channel = None

    def ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        was_up = True
        while True:
            is_up = await self.probe()
            if is_up and not was_up and self.on_reconnect:
                await self.on_reconnect()
            was_up = is_up
            await asyncio.sleep(self.PROBE_SECONDS)

    async def probe(self) -> bool:
        layer = get_channel_layer()
        try:
            if self._probe_channel is None:
                # new_channel() subscribes: success means the subscription path works.
                self._probe_channel = await layer.new_channel("probe.")
            await layer.send(self._probe_channel, {"type": "probe"})
            await asyncio.wait_for(layer.receive(self._probe_channel), self.PROBE_TIMEOUT_SECONDS)
            return True
        except Exception:
            logger.warning("channel layer unreachable")
            self._probe_channel = None
            return False


layer_watcher = LayerWatcher()
