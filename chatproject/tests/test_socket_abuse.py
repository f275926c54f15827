"""The socket's writes: forged fields in frames are ignored, and the per-user send limit
(THROTTLE_SEND) is one count for REST and the socket together."""

import pytest
from channels.db import database_sync_to_async
from rest_framework.test import APIClient

from accounts.services import session_start
from chatproject.tests.sockets import next_of_type, open_socket, replies_to
from chatproject.tests.world import FAST_HASHERS, MEMBER, OWNER, build_world
from chats.models import Membership
from messaging.models import Message
from messaging.tests.factories import group_chat

# Database work through channels' database_sync_to_async, which closes the connection it
# used (a pooled PostgreSQL connection left open in its thread blocks dropping the test DB).
pytestmark = pytest.mark.django_db(transaction=True)

FORGED = {
    "id": 42,
    "seq": 999,
    "version": 999,
    "type": "system",
    "is_deleted": True,
    "created_at": "2001-01-01T00:00:00Z",
    "edited_at": "2001-01-01T00:00:00Z",
    "last_read_seq": 999,
}


async def test_frames_ignore_forged_fields(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    world = await database_sync_to_async(build_world)()
    await database_sync_to_async(world.open_sessions)()
    alice, bob, erin = world.users[OWNER], world.users[MEMBER], world.erin
    chat_id = str(world.group.chat.pk)
    forged = FORGED | {"sender": str(bob.pk), "sender_id": str(bob.pk), "user_id": str(bob.pk)}
    alice_socket = await open_socket(world.tokens[OWNER]["access"])
    erin_socket = await open_socket(
        (await database_sync_to_async(session_start)(user=erin))["access"]
    )
    try:
        send = {**forged, "type": "send_message", "chat_id": chat_id, "content": "hi"}
        (ack,) = await replies_to(alice_socket, send)
        message = await database_sync_to_async(Message.objects.get)(pk=ack["message"]["id"])
        assert (message.sender_id, message.type, message.is_deleted) == (alice.pk, "text", False)
        assert message.seq < 999 and message.version < 999 and message.edited_at is None

        typing_frame = {**forged, "type": "typing", "chat_id": chat_id, "is_typing": True}
        await erin_socket.send_json_to(typing_frame)
        typing = await next_of_type(alice_socket, "typing")
        assert typing["user_id"] == str(erin.pk)

        read = {**forged, "type": "mark_read", "chat_id": chat_id, "seq": message.seq}
        assert await replies_to(erin_socket, read) == []
        memberships = Membership.objects.filter(chat_id=chat_id)
        pointers = dict(
            await database_sync_to_async(list)(memberships.values_list("user_id", "last_read_seq"))
        )
        assert pointers[erin.pk] == message.seq and pointers[bob.pk] < message.seq
    finally:
        await alice_socket.disconnect()
        await erin_socket.disconnect()


async def test_the_send_limit_counts_rest_and_socket_together(alice, bob, settings):
    settings.THROTTLE_SEND = "5/min"
    chat = await database_sync_to_async(group_chat)(alice, bob)
    tokens = await database_sync_to_async(session_start)(user=alice)
    rest = APIClient()
    rest.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    path = f"/api/v1/chats/{chat.pk}/messages"

    async def post(content):
        return await database_sync_to_async(rest.post)(path, {"content": content}, format="json")

    socket = await open_socket(tokens["access"])
    try:
        assert [(await post(f"rest {n}")).status_code for n in range(3)] == [201] * 3
        frames = [{"type": "send_message", "chat_id": str(chat.pk), "content": "socket"}] * 3
        replies = [(await replies_to(socket, frame))[0] for frame in frames]
    finally:
        await socket.disconnect()
    assert [reply["type"] for reply in replies] == ["ack", "ack", "error"]
    assert replies[2]["code"] == "rate_limited" and 0 < replies[2]["retry_after"] <= 120
    refused = await post("rest again")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 120
    sent = Message.objects.filter(chat=chat, sender=alice)
    assert await database_sync_to_async(sent.count)() == 5
    bob_tokens = await database_sync_to_async(session_start)(user=bob)
    rest.credentials(HTTP_AUTHORIZATION=f"Bearer {bob_tokens['access']}")
    assert (await post("bob has his own allowance")).status_code == 201
