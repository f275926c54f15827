"""This process' sockets by group: each layer message is received once per process.

Channels' own way gives every socket a layer channel, a queue and a task, and decodes each
group message once per socket before it is dispatched; in a group of 50 that machinery cost
several times the write itself (README, Performance). Here one layer channel per event loop
joins every group that has a socket in this process, and `event.forward` writes its text to
each socket of the group (`users.forward`: of the users it names) in one pass, as one
WebSocket frame built once. Messages name their group (realtime.py adds it) and arrive in
the order Redis published them, so a `chat.join` is handled before the chat's next message.

A socket of this process calls `join`/`leave` for its groups and `release` when it ends;
LocalGroups calls the socket's `write(text, frame)` and, for the other layer messages, the
handler named in HANDLERS with the message. The channel lives while the process has a
socket.
"""

import asyncio
import logging
import weakref

from channels.layers import get_channel_layer

from chatproject.http_server import text_frame
from messaging.realtime import user_group

logger = logging.getLogger(__name__)

HANDLERS = {"chat.join": "chat_join", "chat.leave": "chat_leave", "sessions.end": "sessions_end"}
FORWARDS = {"event.forward", "users.forward"}


class LocalGroups:
    def __init__(self):
        self.layer = get_channel_layer()
        self.sockets_of: dict[str, set] = {}
        self.groups_of: dict[object, set[str]] = {}
        self.channel = None
        self.receiver = None
        # Joins and leaves change layer subscriptions; one at a time keeps the two maps and
        # the layer in step.
        self.lock = asyncio.Lock()

    async def join(self, group: str, socket) -> None:
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.receiver = asyncio.create_task(self._receive(self.channel))
            if group not in self.sockets_of:
                # Recorded once the layer has it: a failed subscribe leaves nothing behind.
                await self.layer.group_add(group, self.channel)
                self.sockets_of[group] = set()
            self.sockets_of[group].add(socket)
            self.groups_of.setdefault(socket, set()).add(group)

    async def leave(self, group: str, socket) -> None:
        async with self.lock:
            await self._leave(group, socket)

    async def release(self, socket) -> None:
        """Take the socket out of all its groups; the last socket stops the receiver."""
        async with self.lock:
            for group in list(self.groups_of.get(socket, ())):
                await self._leave(group, socket)
            if not self.groups_of and self.receiver is not None:
                self.receiver.cancel()
                self.channel = self.receiver = None

    async def _leave(self, group: str, socket) -> None:
        sockets = self.sockets_of.get(group, set())
        if socket not in sockets:
            return
        sockets.remove(socket)
        groups = self.groups_of[socket]
        groups.remove(group)
        if not groups:
            del self.groups_of[socket]
        if not sockets:
            del self.sockets_of[group]
            await self.layer.group_discard(group, self.channel)

    async def _receive(self, channel: str) -> None:
        while True:
            try:
                await self.deliver(await self.layer.receive(channel))
            except Exception:
                logger.exception("layer message not delivered")

    async def deliver(self, message: dict) -> None:
        if message["type"] == "users.forward":
            groups = [user_group(user_id) for user_id in message["user_ids"]]
        else:
            groups = [message["group"]]
        sockets = [socket for group in groups for socket in self.sockets_of.get(group, ())]
        if message["type"] in FORWARDS:
            text, skip_user = message["text"], message.get("skip_user")
            frame = text_frame(text)  # the same bytes for every socket
            calls = [
                (socket.write, text, frame) for socket in sockets if socket.user_id != skip_user
            ]
        else:
            calls = [(getattr(socket, HANDLERS[message["type"]]), message) for socket in sockets]
        for call, *arguments in calls:
            try:
                await call(*arguments)
            except Exception:
                logger.exception("%s to a socket failed", message["type"])


_by_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LocalGroups]" = (
    weakref.WeakKeyDictionary()
)


def local_groups() -> LocalGroups:
    """The running event loop's LocalGroups (a layer channel belongs to one loop)."""
    loop = asyncio.get_running_loop()
    if loop not in _by_loop:
        _by_loop[loop] = LocalGroups()
    return _by_loop[loop]
