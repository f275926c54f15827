"""Two real daphne processes sharing PostgreSQL and Redis behave as one service."""

import uuid

import pytest

from accounts.services import session_start
from chatproject.testing import DaphneProcess, SocketClient, http, server_env
from chats import services as chat_services

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def servers():
    processes = [DaphneProcess(server_env(PRESENCE_GRACE_SECONDS="0.5")).start() for _ in range(2)]
    yield processes
    for process in processes:
        process.stop()


@pytest.fixture
def sockets():
    opened = []

    def open_socket(server, token):
        client = SocketClient(server.ws_url, token)
        opened.append(client)
        assert client.next_event()["type"] == "initial_data"
        return client

    yield open_socket
    for client in opened:
        client.close()


def test_events_from_one_process_reach_sockets_on_the_other(servers, sockets, alice, bob, charlie):
    one, two = servers
    chat = chat_services.group_create(creator=bob, name="Team", member_ids=[alice.pk, charlie.pk])
    bob_token = session_start(user=bob)["access"]
    alice_socket = sockets(one, session_start(user=alice)["access"])
    charlie_socket = sockets(one, session_start(user=charlie)["access"])
    bob_socket = sockets(two, bob_token)

    assert alice_socket.next_of_type("presence", user_id=str(bob.pk))["is_online"] is True
    for n in range(10):
        bob_socket.send(
            {
                "type": "send_message",
                "chat_id": str(chat.pk),
                "content": f"m{n}",
                "client_id": f"c{n}",
            }
        )
    for listener in (alice_socket, charlie_socket):
        seqs = [listener.next_of_type("new_message")["message"]["seq"] for _ in range(10)]
        assert seqs == sorted(seqs) and len(set(seqs)) == 10

    first_id = bob_socket.next_of_type("ack")["message"]["id"]
    status, _ = http(
        "PATCH",
        f"{two.http_url}/api/v1/messages/{first_id}",
        token=bob_token,
        body={"content": "edited"},
    )
    assert status == 200
    assert alice_socket.next_of_type("message_updated")["message"]["content"] == "edited"

    status, _ = http(
        "POST",
        f"{two.http_url}/api/v1/messages/{first_id}/reactions",
        token=bob_token,
        body={"emoji": "👍"},
    )
    assert status == 200
    reaction = alice_socket.next_of_type("reaction_added")
    assert reaction["emoji"] == "👍" and reaction["user_id"] == str(bob.pk)

    bob_socket.send({"type": "typing", "chat_id": str(chat.pk), "is_typing": True})
    assert alice_socket.next_of_type("typing")["user_id"] == str(bob.pk)


def test_a_socket_on_one_process_joins_a_group_created_on_the_other(servers, sockets, alice, bob):
    one, two = servers
    bob_token = session_start(user=bob)["access"]
    alice_socket = sockets(two, session_start(user=alice)["access"])
    status, chat = http(
        "POST",
        f"{one.http_url}/api/v1/chats",
        token=bob_token,
        body={"type": "group", "name": "New", "member_ids": [str(alice.pk)]},
    )
    assert status == 201
    assert alice_socket.next_of_type("chat_created")["chat"]["id"] == chat["id"]
    status, _ = http(
        "POST",
        f"{one.http_url}/api/v1/chats/{chat['id']}/messages",
        token=bob_token,
        body={"content": "first"},
    )
    assert status == 201
    assert alice_socket.next_of_type("new_message")["message"]["content"] == "first"


def test_a_client_that_was_away_converges_with_changes(servers, alice, bob):
    one, two = servers
    chat = chat_services.group_create(creator=bob, name="Team", member_ids=[alice.pk])
    alice_token, bob_token = session_start(user=alice)["access"], session_start(user=bob)["access"]
    _, synced = http("GET", f"{one.http_url}/api/v1/chats/sync", token=alice_token)
    known_version = next(c["version"] for c in synced if c["id"] == str(chat.pk))

    sent = []
    for n in range(5):
        _, message = http(
            "POST",
            f"{two.http_url}/api/v1/chats/{chat.pk}/messages",
            token=bob_token,
            body={"content": f"while away {n}"},
        )
        sent.append(message)
    http(
        "PATCH",
        f"{two.http_url}/api/v1/messages/{sent[0]['id']}",
        token=bob_token,
        body={"content": "changed"},
    )
    http("DELETE", f"{two.http_url}/api/v1/messages/{sent[1]['id']}", token=bob_token)

    _, changes = http(
        "GET",
        f"{one.http_url}/api/v1/chats/{chat.pk}/changes?since={known_version}",
        token=alice_token,
    )
    by_id = {m["id"]: m for m in changes["messages"]}
    assert len(by_id) == len(changes["messages"]) == 5
    assert by_id[sent[0]["id"]]["content"] == "changed"
    assert by_id[sent[1]["id"]]["is_deleted"] is True
    versions = [m["version"] for m in changes["messages"]]
    assert versions == sorted(versions)


def test_the_token_never_reaches_the_logs(servers, sockets, alice):
    one, _ = servers
    token = session_start(user=alice)["access"]
    sockets(one, token).close()
    by_subprotocol = SocketClient(one.ws_url, token, as_subprotocol=True)
    assert by_subprotocol.ws.subprotocol == "bearer"
    assert by_subprotocol.next_event()["type"] == "initial_data"
    # Errors are logged too: a frame naming no chat of hers, a REST 404 (django.request).
    by_subprotocol.send({"type": "send_message", "chat_id": str(uuid.uuid4()), "content": "x"})
    assert by_subprotocol.next_of_type("error")["code"] == "not_found"
    by_subprotocol.close()
    status, _ = http("GET", f"{one.http_url}/api/v1/chats/{uuid.uuid4()}", token=token)
    assert status == 404
    output = one.stop()
    assert "Not Found: /api/v1/chats/" in output
    assert token not in output
