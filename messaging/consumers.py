"""The WebSocket: one per client session, carrying events for all the user's chats.

The consumer authenticates (scope from accounts.socket_auth), joins `user.<id>`, `users` and
one `chat.<id>` group per chat, sends `initial_data`, then writes what realtime.py publishes
(delivered by local_groups.py) and turns client frames into service calls. README.md
documents the protocol.
"""

import uuid
import weakref

import orjson
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts import presence
from accounts.socket_auth import BEARER_SUBPROTOCOL
from chatproject.http_server import socket_closing, write_frame
from messaging import realtime, socket_actions
from messaging.local_groups import local_groups
from messaging.socket_actions import FrameError
from messaging.socket_rate import TokenBucket

CLOSE_UNAUTHENTICATED = 4401
RESYNC_EVENT = orjson.dumps({"type": "resync"}).decode()


async def after_layer_reconnect() -> None:
    """Events may have been dropped while the layer was away: every local socket catches up."""
    await presence.tracker.restore()
    for consumer in list(local_consumers):
        await consumer.resynchronise()


presence.tracker.on_offline = socket_actions.announce_offline
realtime.layer_watcher.on_reconnect = after_layer_reconnect
local_consumers: "weakref.WeakSet[ChatConsumer]" = weakref.WeakSet()


class ChatConsumer(AsyncWebsocketConsumer):
    # No layer channel of its own: local_groups.py receives for all of the process' sockets.
    channel_layer_alias = None
    user = None
    # While the socket connects, layer messages wait here (as (action, argument)) to be
    # handled in order behind `initial_data`, as Channels' own queue did.
    held = None

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            await local_groups().release(self)

    async def dispatch(self, message):
        """Channels' dispatch without its `aclose_old_connections()` before every handler: that
        is a hop to the process' single sync thread per client frame, and this consumer never
        holds a connection (its database work runs in `database_call`, which hands the
        connection back after each call)."""
        await getattr(self, get_handler_name(message))(message)

    async def connect(self):
        user = self.scope["user"]
        await self.accept(BEARER_SUBPROTOCOL if self.scope.get("bearer_subprotocol") else None)
        if not user.is_authenticated:
            await self.close(CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.user_id = str(user.pk)
        self.sid = str(self.scope["sid"])
        self.socket_id = uuid.uuid4().hex
        self.frames = TokenBucket.from_rate(settings.SOCKET_FRAME_RATE)
        self.held = []
        groups = local_groups()
        await groups.join(realtime.user_group(self.user_id), self)
        await groups.join(realtime.USERS_GROUP, self)
        self.chat_ids = await socket_actions.chat_ids_of(user)
        for chat_id in self.chat_ids:
            await groups.join(realtime.chat_group(chat_id), self)
        went_online = await presence.tracker.connected(self.user_id, self.socket_id)
        local_consumers.add(self)
        if settings.REDIS_URL:
            realtime.layer_watcher.ensure_running()
        # Taken after joining the groups: an event racing the connect is held behind this
        # frame (maybe seen twice, deduplicated by version), never lost.
        initial_data, contact_ids = await socket_actions.initial_data(user)
        await self.send(text_data=realtime.to_json(initial_data))
        if went_online:
            await socket_actions.announce_online(user, contact_ids)
        while self.held:
            action, argument = self.held.pop(0)
            await action(argument)
        self.held = None

    async def resynchronise(self):
        """Catch up with what lost layer messages would have done to this socket (a session
        that ended, chats joined or left), then tell the client to catch up with `resync`."""
        if not await socket_actions.session_is_open(sid=self.sid):
            await self.close(CLOSE_UNAUTHENTICATED)
            return
        chat_ids = await socket_actions.chat_ids_of(self.user)
        groups = local_groups()
        for chat_id in chat_ids - self.chat_ids:
            await groups.join(realtime.chat_group(chat_id), self)
        for chat_id in self.chat_ids - chat_ids:
            await groups.leave(realtime.chat_group(chat_id), self)
        self.chat_ids = chat_ids
        await self.send(text_data=RESYNC_EVENT)

    async def disconnect(self, code):
        if self.user is None:
            return
        local_consumers.discard(self)
        await presence.tracker.disconnected(self.user_id, self.socket_id)

    # --- Client frames ------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.user is None:
            return
        retry_after = self.frames.take()
        if retry_after:
            await self.send_error("rate_limited", "Too many frames.", retry_after=retry_after)
            return
        client_id = None
        try:
            frame = socket_actions.parse_frame(text_data, bytes_data)
            client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
            reply = await socket_actions.handle(self, frame)
        except FrameError as error:
            await self.send_error(error.code, error.detail, client_id, error.retry_after)
            return
        if reply is not None:
            await self.send(text_data=realtime.to_json(reply))

    async def send(self, text_data=None, bytes_data=None, close=False):
        """Nothing to a socket that is closing (its close handshake begun by either side):
        an event for it was logged as a failed delivery with Autobahn's traceback."""
        if not socket_closing(self.base_send):
            await super().send(text_data, bytes_data, close)

    async def send_error(self, code, detail, client_id=None, retry_after=None):
        event = {"type": "error", "code": code, "detail": detail}
        if client_id is not None:
            event["client_id"] = client_id
        if retry_after is not None:
            event["retry_after"] = retry_after
        await self.send(text_data=orjson.dumps(event).decode())

    # --- Layer messages, delivered by local_groups.py (see realtime.py) -------------------

    async def write(self, text: str, frame: bytes) -> None:
        """`text`, or `frame` (the same text framed, shared by the group's sockets) straight
        to daphne's socket when that can take it."""
        if self.held is None and write_frame(self.base_send, frame):
            return
        await self._now_or_held(self._write_now, text)

    async def chat_join(self, message):
        await self._now_or_held(self._join_chat, message)

    async def chat_leave(self, message):
        await self._now_or_held(self._leave_chat, message)

    async def sessions_end(self, message):
        if self.sid in message["sids"]:
            await self.close(CLOSE_UNAUTHENTICATED)

    async def _now_or_held(self, action, argument) -> None:
        if self.held is None:
            await action(argument)
        else:
            self.held.append((action, argument))

    async def _write_now(self, text: str) -> None:
        await self.send(text_data=text)

    async def _join_chat(self, message):
        self.chat_ids.add(message["chat_id"])
        await local_groups().join(realtime.chat_group(message["chat_id"]), self)
        await self._write_now(message["text"])

    async def _leave_chat(self, message):
        self.chat_ids.discard(message["chat_id"])
        await local_groups().leave(realtime.chat_group(message["chat_id"]), self)
        await self._write_now(message["text"])
