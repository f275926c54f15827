"""The socket, through the whole ASGI stack (origin check, token auth, consumer), in-process."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from accounts.models import Session
from accounts.services import session_logout, session_start, user_delete
from accounts.tests.factories import TEST_PASSWORD
from chatproject.asgi import application
from chats import services as chat_services
from chats.models import Membership
from messaging import realtime
from messaging import services as message_services
from messaging.consumers import after_layer_reconnect
from messaging.local_groups import local_groups

pytestmark = pytest.mark.django_db(transaction=True)


class Socket:
    """A connected test socket that has read its `initial_data`."""

    def __init__(self, communicator, initial_data):
        self.communicator = communicator
        self.initial_data = initial_data

    async def send(self, frame):
        await self.communicator.send_json_to(frame)

    async def receive(self, timeout=3):
        return await self.communicator.receive_json_from(timeout=timeout)

    async def receive_type(self, event_type, timeout=3):
        while True:
            event = await self.receive(timeout)
            if event["type"] == event_type:
                return event

    async def events_before_pong(self):
        """The events queued for the socket, read up to a ping's pong: the socket is alive
        and nothing else is on its way."""
        await self.send({"type": "ping"})
        events = []
        while (event := await self.receive())["type"] != "pong":
            events.append(event)
        return events

    async def types_before_pong(self):
        return [event["type"] for event in await self.events_before_pong()]

    async def close(self):
        await self.communicator.disconnect()


@pytest.fixture
async def connect():
    sockets = []

    async def open_socket(user=None, *, token=None, headers=None, subprotocols=None):
        if token is None:
            token = (await sync_to_async(session_start)(user=user))["access"]
        path = "/ws/" if subprotocols else f"/ws/?token={token}"
        communicator = WebsocketCommunicator(
            application, path, headers=headers or [], subprotocols=subprotocols
        )
        connected, subprotocol = await communicator.connect()
        assert connected
        communicator.subprotocol = subprotocol
        first = await communicator.receive_json_from(timeout=5)
        socket = Socket(communicator, first)
        sockets.append(socket)
        return socket

    yield open_socket
    for socket in sockets:
        await socket.close()


async def make_group(admin, *members, name="Team"):
    return await sync_to_async(chat_services.group_create)(
        creator=admin, name=name, member_ids=[m.pk for m in members]
    )


async def send_text(chat, sender, content="hello"):
    message, _ = await sync_to_async(message_services.message_send)(
        chat_id=chat.pk, sender=sender, content=content
    )
    return message


async def test_a_socket_without_token_is_closed_4401():
    communicator = WebsocketCommunicator(application, "/ws/")
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_output(timeout=3))["code"] == 4401
    await communicator.disconnect()


async def test_a_bad_token_is_closed_4401():
    communicator = WebsocketCommunicator(application, "/ws/?token=not-a-jwt")
    await communicator.connect()
    assert (await communicator.receive_output(timeout=3))["code"] == 4401
    await communicator.disconnect()


async def test_a_foreign_origin_is_refused_at_the_handshake(alice):
    token = (await sync_to_async(session_start)(user=alice))["access"]
    communicator = WebsocketCommunicator(
        application, f"/ws/?token={token}", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_an_allowed_origin_is_accepted(alice, connect):
    socket = await connect(alice, headers=[(b"origin", b"http://localhost:5173")])
    assert socket.initial_data["type"] == "initial_data"


async def test_an_origin_listed_for_cors_is_accepted(alice, connect, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    socket = await connect(alice, headers=[(b"origin", b"https://app.example.com")])
    assert socket.initial_data["type"] == "initial_data"


async def test_the_token_may_come_as_bearer_subprotocol(alice, connect):
    token = (await sync_to_async(session_start)(user=alice))["access"]
    socket = await connect(token=token, subprotocols=["bearer", token])
    assert socket.communicator.subprotocol == "bearer"
    assert socket.initial_data["user"]["username"] == "alice"


async def test_initial_data_lists_chats_and_sync(alice, bob, connect):
    chat = await make_group(alice, bob)
    socket = await connect(alice)
    data = socket.initial_data
    assert data["type"] == "initial_data"
    assert data["user"]["id"] == str(alice.pk)
    assert [c["id"] for c in data["chats"]] == [str(chat.pk)]
    assert data["sync"][0]["id"] == str(chat.pk)
    assert "chats_next" in data and "online_users" in data


async def test_events_published_while_a_socket_connects_come_after_initial_data(alice, settings):
    # In memory, a group is joined at once; Redis would miss what is published before its
    # SUBSCRIBE lands, which initial_data covers.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    token = (await sync_to_async(session_start)(user=alice))["access"]
    communicator = WebsocketCommunicator(application, f"/ws/?token={token}")
    await communicator.connect()
    # The consumer has joined its groups and reads its chats, before `initial_data`.
    await realtime.publish_to_users_now([alice.pk], {"type": "user_updated", "n": 1})
    await realtime.publish_to_users_now([alice.pk], {"type": "user_updated", "n": 2})
    first, second, third = [await communicator.receive_json_from(timeout=3) for _ in range(3)]
    assert first["type"] == "initial_data"
    assert (second["n"], third["n"]) == (1, 2)
    await communicator.disconnect()


# The leave races the connect's reads, which SQLite's shared in-memory test database refuses
# while another thread writes the table ("database table is locked").
@pytest.mark.postgres
async def test_a_chat_left_while_the_socket_connects_is_not_heard(alice, bob, charlie):
    chat = await make_group(alice, bob, charlie)
    token = (await sync_to_async(session_start)(user=bob))["access"]
    communicator = WebsocketCommunicator(application, f"/ws/?token={token}")
    await communicator.connect()
    await sync_to_async(chat_services.chat_leave)(chat_id=chat.pk, user=bob)
    socket = Socket(communicator, await communicator.receive_json_from(timeout=3))
    await send_text(chat, alice, "secret")
    assert "secret" not in json.dumps(await socket.events_before_pong())
    await socket.close()


async def test_the_process_stops_receiving_when_its_last_socket_closes(alice, bob, connect):
    await make_group(alice, bob)
    sockets = [await connect(alice), await connect(bob)]
    assert local_groups().channel is not None
    for socket in sockets:
        await socket.close()
    assert local_groups().channel is None and local_groups().sockets_of == {}


async def test_ping_gets_pong(alice, connect):
    socket = await connect(alice)
    await socket.send({"type": "ping"})
    assert await socket.receive() == {"type": "pong"}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"type": "launch_rockets"}', "invalid_frame"),
        ('{"type": "send_message", "content": "hi"}', "invalid_frame"),
        ('{"type": "typing", "chat_id": "x", "is_typing": true}', "invalid_frame"),
        (
            '{"type": "mark_read", "chat_id": "7d8b4c1e-4c9b-4f5e-9a37-1c2d3e4f5a6b"}',
            "invalid_frame",
        ),
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(alice, connect, raw, code):
    socket = await connect(alice)
    await socket.communicator.send_to(text_data=raw)
    error = await socket.receive()
    assert error["type"] == "error" and error["code"] == code
    assert await socket.types_before_pong() == []


async def test_a_binary_frame_is_invalid(alice, connect):
    socket = await connect(alice)
    await socket.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive())["code"] == "invalid_frame"
    assert await socket.types_before_pong() == []


async def test_a_frame_over_128_kib_is_too_large(alice, connect):
    socket = await connect(alice)
    await socket.communicator.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * 140_000}))
    assert (await socket.receive())["code"] == "frame_too_large"
    assert await socket.types_before_pong() == []


async def test_frames_beyond_the_rate_are_refused(alice, connect, settings):
    settings.SOCKET_FRAME_RATE = "2/s"
    socket = await connect(alice)
    for _ in range(5):
        await socket.send({"type": "ping"})
    replies = [await socket.receive() for _ in range(5)]
    limited = [r for r in replies if r["type"] == "error"]
    assert limited and limited[0]["code"] == "rate_limited" and limited[0]["retry_after"] > 0


async def test_send_message_acks_the_sender_and_reaches_the_others(alice, bob, connect):
    chat = await make_group(alice, bob)
    alice_socket, bob_socket = await connect(alice), await connect(bob)
    await alice_socket.send(
        {"type": "send_message", "chat_id": str(chat.pk), "content": "hi", "client_id": "c1"}
    )
    ack = await alice_socket.receive_type("ack")
    assert ack["client_id"] == "c1" and ack["message"]["content"] == "hi"
    new = await bob_socket.receive_type("new_message")
    assert new["message"]["id"] == ack["message"]["id"]
    assert new["chat_id"] == str(chat.pk) and new["version"] == ack["message"]["version"]


async def test_new_message_shows_whether_its_sender_is_online(alice, bob, charlie, connect):
    chat = await make_group(alice, bob, charlie)
    alice_socket, bob_socket = await connect(alice), await connect(bob)
    await alice_socket.send({"type": "send_message", "chat_id": str(chat.pk), "content": "hi"})
    assert (await bob_socket.receive_type("new_message"))["message"]["sender"]["is_online"]
    await send_text(chat, charlie)  # as over REST: charlie has no socket open
    sent = (await bob_socket.receive_type("new_message"))["message"]
    assert sent["sender"]["id"] == str(charlie.pk) and sent["sender"]["is_online"] is False


async def test_send_message_to_a_chat_of_others_is_not_found(alice, bob, charlie, connect):
    chat = await make_group(bob, charlie)
    socket = await connect(alice)
    await socket.send(
        {"type": "send_message", "chat_id": str(chat.pk), "content": "hi", "client_id": "c9"}
    )
    error = await socket.receive_type("error")
    assert error["code"] == "not_found" and error["client_id"] == "c9"


async def test_sending_to_a_direct_chat_whose_partner_deleted_the_account_is_forbidden(
    alice, bob, connect
):
    chat, _ = await sync_to_async(chat_services.direct_chat_get_or_create)(
        user=alice, other_user_id=bob.pk
    )
    await sync_to_async(user_delete)(user=bob, password=TEST_PASSWORD)
    socket = await connect(alice)
    await socket.send({"type": "send_message", "chat_id": str(chat.pk), "content": "still there?"})
    assert (await socket.receive_type("error"))["code"] == "forbidden"


async def test_empty_text_is_invalid(alice, bob, connect):
    chat = await make_group(alice, bob)
    socket = await connect(alice)
    await socket.send({"type": "send_message", "chat_id": str(chat.pk), "content": "   "})
    assert (await socket.receive_type("error"))["code"] == "invalid"


async def test_typing_reaches_the_others_but_not_the_typist(alice, bob, connect):
    chat = await make_group(alice, bob)
    alice_socket, bob_socket = await connect(alice), await connect(bob)
    await alice_socket.send({"type": "typing", "chat_id": str(chat.pk), "is_typing": True})
    typing = await bob_socket.receive_type("typing")
    assert typing["user_id"] == str(alice.pk) and typing["is_typing"] is True
    assert typing["expires_in"] > 0
    assert "typing" not in await alice_socket.types_before_pong()


async def test_mark_read_tells_the_other_members(alice, bob, connect):
    chat = await make_group(alice, bob)
    message = await send_text(chat, alice)
    alice_socket, bob_socket = await connect(alice), await connect(bob)
    await bob_socket.send({"type": "mark_read", "chat_id": str(chat.pk), "seq": message.seq})
    read = await alice_socket.receive_type("messages_read")
    assert read["user_id"] == str(bob.pk) and read["seq"] == message.seq


async def test_a_socket_joins_a_chat_it_is_added_to(alice, bob, connect):
    bob_socket = await connect(bob)
    chat = await make_group(alice, bob)
    created = await bob_socket.receive_type("chat_created")
    assert created["chat"]["id"] == str(chat.pk)
    await send_text(chat, alice, "welcome")
    assert (await bob_socket.receive_type("new_message"))["message"]["content"] == "welcome"


async def test_a_removed_member_stops_hearing_the_chat(alice, bob, charlie, connect):
    chat = await make_group(alice, bob, charlie)
    bob_socket = await connect(bob)
    await sync_to_async(chat_services.member_remove)(chat_id=chat.pk, actor=alice, user_id=bob.pk)
    deleted = await bob_socket.receive_type("chat_deleted")
    assert deleted["chat_id"] == str(chat.pk)
    await send_text(chat, alice, "secret")
    assert "secret" not in json.dumps(await bob_socket.events_before_pong())


async def test_logout_closes_that_sessions_sockets_with_4401(alice, connect):
    tokens = await sync_to_async(session_start)(user=alice)
    socket = await connect(token=tokens["access"])
    await sync_to_async(session_logout)(user=alice, refresh=tokens["refresh"])
    assert (await socket.communicator.receive_output(timeout=3))["code"] == 4401


async def test_presence_goes_online_and_offline(alice, bob, connect, settings):
    settings.PRESENCE_GRACE_SECONDS = 0
    await make_group(alice, bob)
    alice_socket = await connect(alice)
    bob_socket = await connect(bob)
    online = await alice_socket.receive_type("presence")
    assert online["user_id"] == str(bob.pk) and online["is_online"] is True
    await bob_socket.close()
    offline = await alice_socket.receive_type("presence")
    assert offline["is_online"] is False and offline["last_seen"]
    await connect(bob)
    back = await alice_socket.receive_type("presence")
    assert back["is_online"] is True and back["last_seen"] == offline["last_seen"]


async def test_presence_reaches_only_people_who_share_a_chat(alice, bob, charlie, connect):
    await make_group(alice, bob)
    alice_socket, charlie_socket = await connect(alice), await connect(charlie)
    await connect(bob)
    online = await alice_socket.receive_type("presence")
    assert online["user_id"] == str(bob.pk) and online["is_online"] is True
    assert await charlie_socket.types_before_pong() == []


async def test_socket_stats_count_an_open_socket(alice, bob, connect, client_for):
    bob.is_staff = True
    await sync_to_async(bob.save)(update_fields=["is_staff"])
    staff = await sync_to_async(client_for)(bob)
    before = (await sync_to_async(staff.get)("/api/v1/ws/stats")).json()
    await connect(alice)
    after = (await sync_to_async(staff.get)("/api/v1/ws/stats")).json()
    assert after["connections"] == before["connections"] + 1
    assert after["online_users"] == before["online_users"] + 1


async def test_after_the_layer_comes_back_a_socket_catches_up_on_lost_leaves(
    alice, bob, charlie, connect
):
    """A `chat.leave` lost while Redis was away: the socket leaves the group on resync."""
    chat = await make_group(alice, bob, charlie)
    bob_socket = await connect(bob)
    await sync_to_async(Membership.objects.filter(chat=chat, user=bob).delete)()
    await after_layer_reconnect()
    assert await bob_socket.receive_type("resync") == {"type": "resync"}
    await send_text(chat, alice, "secret")
    assert "secret" not in json.dumps(await bob_socket.events_before_pong())


async def test_after_the_layer_comes_back_a_socket_follows_a_chat_it_missed_joining(
    alice, bob, connect
):
    """A `chat.join` lost while Redis was away: the socket joins the group on resync."""
    bob_socket = await connect(bob)
    chat = await make_group(alice)
    await sync_to_async(Membership.objects.create)(chat=chat, user=bob)
    await after_layer_reconnect()
    assert await bob_socket.receive_type("resync") == {"type": "resync"}
    await send_text(chat, alice, "welcome")
    assert (await bob_socket.receive_type("new_message"))["message"]["content"] == "welcome"


async def test_after_the_layer_comes_back_a_socket_of_an_ended_session_closes(alice, connect):
    """A `sessions.end` lost while Redis was away: the socket closes on resync."""
    tokens = await sync_to_async(session_start)(user=alice)
    socket = await connect(token=tokens["access"])
    await sync_to_async(Session.objects.filter(user=alice).update)(ended_at=timezone.now())
    await after_layer_reconnect()
    assert (await socket.communicator.receive_output(timeout=3))["code"] == 4401
