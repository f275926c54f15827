"""Faults: Redis or PostgreSQL going away, a server process killed, a stalled client.

Every test runs real daphne processes. A test that breaks Redis or PostgreSQL breaks a private
instance it started on a free port, never the machine's shared ones. README.md ("Faults")
sums up what each shows.
"""

import select
import time
from collections import Counter

import pytest

from accounts.services import session_start
from chatproject.testing import (
    DaphneProcess,
    PrivatePostgres,
    PrivateRedis,
    SocketClient,
    http,
    server_env,
    wait_until,
    websocket_by_hand,
)
from chats import services as chat_services
from messaging import services as message_services

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

# Tests send faster than a person: lift the send and frame rates.
UNTHROTTLED = {"THROTTLE_SEND": "100000/min", "SOCKET_FRAME_RATE": "1000/s"}


@pytest.fixture
def private_redis():
    instance = PrivateRedis()
    try:
        yield instance.start()
    finally:
        instance.stop()


@pytest.fixture
def private_postgres():
    instance = PrivatePostgres()
    try:
        yield instance.create()
    finally:
        instance.destroy()


@pytest.fixture
def start_server():
    started = []

    def start(**env) -> DaphneProcess:
        process = DaphneProcess(server_env(**UNTHROTTLED, **env)).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


class ChatClient:
    """One user's socket to one chat, with what a client keeps: messages by id, and the
    chat's version up to which it has seen every change (a gap stops it advancing)."""

    def __init__(self, server: DaphneProcess, token: str, chat_id):
        self.token = token
        self.chat_id = str(chat_id)
        self.messages: dict[int, dict] = {}
        self.delivered: list[int] = []
        self.received: Counter[str] = Counter()
        self.version: int | None = None
        self.connect(server)

    def connect(self, server: DaphneProcess) -> None:
        """Open a socket (again, to any process); a reconnection keeps the version held."""
        self.socket = SocketClient(server.ws_url, self.token)
        initial = self.socket.next_event()
        assert initial["type"] == "initial_data"
        if self.version is None:
            self.version = next(c["version"] for c in initial["sync"] if c["id"] == self.chat_id)

    def apply(self, event: dict) -> None:
        self.received[event["type"]] += 1
        if event["type"] == "new_message" and event["chat_id"] == self.chat_id:
            self.delivered.append(event["message"]["id"])
            self.keep(event["message"])
            if event["version"] == self.version + 1:
                self.version = event["version"]

    def keep(self, message: dict) -> None:
        self.messages[message["id"]] = message

    def read_until(self, done, timeout: float = 10) -> None:
        """Apply events until `done(self)` holds."""
        deadline = time.monotonic() + timeout
        while not done(self):
            self.apply(self.socket.next_event(max(deadline - time.monotonic(), 0.01)))

    def has_content(self, content: str) -> bool:
        return any(m["content"] == content for m in self.messages.values())

    def catch_up(self, server: DaphneProcess) -> None:
        """`changes?since=` from the version held, until nothing more."""
        has_more = True
        while has_more:
            url = f"{server.http_url}/api/v1/chats/{self.chat_id}/changes?since={self.version}"
            status, changes = http("GET", url, token=self.token)
            assert status == 200
            for message in changes["messages"]:
                self.keep(message)
            self.version, has_more = changes["version"], changes["has_more"]

    def timeline(self) -> list[tuple[int, int, str]]:
        ordered = sorted(self.messages.values(), key=lambda m: m["seq"])
        return [(m["seq"], m["id"], m["content"]) for m in ordered]


def send(server: DaphneProcess, token: str, chat_id, content: str) -> dict:
    url = f"{server.http_url}/api/v1/chats/{chat_id}/messages"
    status, message = http("POST", url, token=token, body={"content": content})
    assert status == 201, message
    return message


def stored_timeline(server: DaphneProcess, token: str, chat_id) -> list[tuple[int, int, str]]:
    url = f"{server.http_url}/api/v1/chats/{chat_id}/messages?limit=100"
    status, page = http("GET", url, token=token)
    assert status == 200 and not page["has_more"]
    return [(m["seq"], m["id"], m["content"]) for m in page["results"]]


def health(server: DaphneProcess) -> tuple[int, dict]:
    return http("GET", f"{server.http_url}/health")


def health_when(server: DaphneProcess, status: int) -> dict:
    """The body of /health once it answers `status`."""

    def answer():
        code, body = health(server)
        return body if code == status else None

    return wait_until(answer, timeout=10, what=f"/health {status}")


def online_ids(server: DaphneProcess, token: str) -> set[str]:
    status, page = http("GET", f"{server.http_url}/api/v1/users/online", token=token)
    assert status == 200
    return {user["id"] for user in page["results"]}


def test_a_redis_restart_loses_no_message_once_clients_catch_up(
    private_redis, start_server, alice, bob
):
    one, two = start_server(REDIS_URL=private_redis.url), start_server(REDIS_URL=private_redis.url)
    chat = chat_services.group_create(creator=bob, name="Team", member_ids=[alice.pk])
    alice_token, bob_token = session_start(user=alice)["access"], session_start(user=bob)["access"]
    clients = [ChatClient(one, alice_token, chat.pk), ChatClient(two, bob_token, chat.pk)]
    for n in range(3):
        send((one, two)[n % 2], bob_token, chat.pk, f"before {n}")
    for client in clients:
        client.read_until(lambda c: c.has_content("before 2"))

    private_redis.stop()
    down = health_when(one, 503)
    assert down == {"status": "unavailable", "database": "ok", "channel_layer": "down"}
    for n in range(4):
        send(one, bob_token, chat.pk, f"during {n}")

    private_redis.start()
    send(one, bob_token, chat.pk, "back")
    for client in clients:
        client.read_until(lambda c: c.received["resync"])
        client.catch_up(one)
    # `two` was idle through the outage: its first use of Redis since must not fail either.
    for server in (two, one):
        assert health(server) == (200, {"status": "ok", "database": "ok", "channel_layer": "ok"})
    # Redis came back empty: each process registered its sockets again.
    assert online_ids(two, bob_token) == {str(alice.pk)}
    send(two, bob_token, chat.pk, "after")
    for client in clients:
        client.read_until(lambda c: c.has_content("after"))

    stored = stored_timeline(one, bob_token, chat.pk)
    assert [seq for seq, _, _ in stored] == list(range(1, 10))
    for client in clients:
        assert client.timeline() == stored
        assert len(client.delivered) == len(set(client.delivered))


def register(server: DaphneProcess, username: str) -> dict:
    body = {"username": username, "email": f"{username}@example.com", "password": "Tr0ub4dor&3x"}
    status, answer = http("POST", f"{server.http_url}/api/v1/auth/register", body=body)
    assert status == 201, answer
    return answer


def timed(call, *args, **kwargs):
    """(seconds taken, result) of `call(*args, **kwargs)`."""
    started = time.monotonic()
    result = call(*args, **kwargs)
    return time.monotonic() - started, result


def test_postgres_down_answers_503_within_5_s_and_the_service_recovers(
    private_postgres, start_server
):
    server = start_server(DATABASE_URL=private_postgres.url, THROTTLE_AUTH="1000/min")
    alice, bob = register(server, "alice"), register(server, "bob")
    status, chat = http(
        "POST",
        f"{server.http_url}/api/v1/chats",
        token=bob["access"],
        body={"type": "group", "name": "Team", "member_ids": [alice["user"]["id"]]},
    )
    assert status == 201
    bob_socket = SocketClient(server.ws_url, bob["access"])
    assert bob_socket.next_event()["type"] == "initial_data"
    url = f"{server.http_url}/api/v1/chats/{chat['id']}/messages"
    sent = [send(server, bob["access"], chat["id"], f"stored {n}")["id"] for n in range(2)]

    private_postgres.stop()
    for method, path, body in [
        ("POST", url, {"content": "lost"}),
        ("GET", url, None),
        ("GET", f"{server.http_url}/api/v1/chats", None),
    ]:
        seconds, (status, answer) = timed(http, method, path, token=bob["access"], body=body)
        assert (status, seconds < 5) == (503, True), (method, path, status, seconds)
        assert answer == {"detail": "A service the API depends on is unavailable."}
    seconds, down = timed(health, server)
    assert down == (503, {"status": "unavailable", "database": "down", "channel_layer": "ok"})
    assert seconds < 5
    frame = {"type": "send_message", "chat_id": chat["id"], "content": "lost", "client_id": "x"}
    seconds, error = timed(lambda: bob_socket.send(frame) or bob_socket.next_of_type("error"))
    assert (error["code"], error["client_id"], seconds < 5) == ("unavailable", "x", True)

    private_postgres.start()
    wait_until(lambda: health(server)[0] == 200, timeout=15, what="database back")
    sent.append(send(server, bob["access"], chat["id"], "stored again")["id"])
    bob_socket.send({**frame, "content": "by socket", "client_id": "y"})
    sent.append(bob_socket.next_of_type("ack")["message"]["id"])
    bob_socket.close()

    stored = stored_timeline(server, alice["access"], chat["id"])
    assert [(seq, id_) for seq, id_, _ in stored] == list(enumerate(sent, start=1))


def test_a_killed_server_loses_no_message_and_its_users_go_offline(
    private_redis, start_server, alice, bob, charlie
):
    quick_presence = {
        "REDIS_URL": private_redis.url,
        "PRESENCE_TTL_SECONDS": 3,
        "PRESENCE_HEARTBEAT_SECONDS": 1,
        "PRESENCE_GRACE_SECONDS": 0.5,
    }
    victim, survivor = start_server(**quick_presence), start_server(**quick_presence)
    chat = chat_services.group_create(creator=bob, name="Team", member_ids=[alice.pk, charlie.pk])
    alice_token, bob_token = session_start(user=alice)["access"], session_start(user=bob)["access"]
    alice_client = ChatClient(victim, alice_token, chat.pk)
    charlie_socket = SocketClient(victim.ws_url, session_start(user=charlie)["access"])
    assert charlie_socket.next_event()["type"] == "initial_data"
    bob_socket = SocketClient(survivor.ws_url, bob_token)
    assert set(bob_socket.next_event()["online_users"]) == {str(alice.pk), str(charlie.pk)}
    send(survivor, bob_token, chat.pk, "before")
    alice_client.read_until(lambda c: c.has_content("before"))

    victim.kill()
    send(survivor, bob_token, chat.pk, "while away")
    alice_client.connect(survivor)
    send(survivor, bob_token, chat.pk, "after")
    alice_client.read_until(lambda c: c.has_content("after"))
    alice_client.catch_up(survivor)
    assert alice_client.timeline() == stored_timeline(survivor, bob_token, chat.pk)

    # Nobody refreshes the dead process' sockets: they expire and the survivor sweeps them.
    offline = bob_socket.next_of_type("presence", user_id=str(charlie.pk), timeout=15)
    assert offline["is_online"] is False and offline["last_seen"] is not None
    assert online_ids(survivor, bob_token) == {str(alice.pk)}


def send_many(chat, sender, count: int, content: str = "") -> None:
    """`count` messages straight through the service (no HTTP in between)."""
    for n in range(count):
        text = content or f"message {n}"
        message_services.message_send(chat_id=chat.pk, sender=sender, content=text)


def test_a_stalled_client_does_not_hold_up_delivery_to_the_others(
    start_server, alice, bob, charlie
):
    server = start_server()
    chat = chat_services.group_create(creator=bob, name="Team", member_ids=[alice.pk, charlie.pk])
    alice_client = ChatClient(server, session_start(user=alice)["access"], chat.pk)
    # A client that never reads (a tiny receive buffer: what the server writes piles up on
    # the server's side).
    stalled = websocket_by_hand(server, session_start(user=charlie)["access"], receive_buffer=4096)
    # The stalled socket's consumer has joined the chat once its presence is announced.
    alice_client.socket.next_of_type("presence", user_id=str(charlie.pk), is_online=True)

    # 150 messages of 40 KB (10,000 four-byte characters): 6 MB for the stalled socket, more
    # than the kernel buffers between the two ends hold (tcp_wmem max 4 MB).
    send_many(chat, bob, 150, content="\N{GRINNING FACE}" * 10_000)
    last_sent = time.monotonic()
    alice_client.read_until(lambda c: len(c.delivered) == 150, timeout=30)
    # Deliveries kept pace with the sends (about 20 ms behind on a 2-core machine).
    assert time.monotonic() - last_sent < 5
    assert [m["seq"] for m in alice_client.messages.values()] == list(range(1, 151))
    assert select.select([stalled], [], [], 0)[0], "the stalled socket was written to"
    stalled.close()


def test_an_idle_socket_still_gets_the_next_event_and_a_burst_arrives_whole(
    start_server, alice, bob
):
    server = start_server(REDIS_SOCKET_TIMEOUT=1)
    chat = chat_services.group_create(creator=bob, name="Team", member_ids=[alice.pk])
    alice_client = ChatClient(server, session_start(user=alice)["access"], chat.pk)
    bob_socket = SocketClient(server.ws_url, session_start(user=bob)["access"])
    assert bob_socket.next_event()["type"] == "initial_data"
    assert alice_client.socket.next_event()["type"] == "presence"  # bob came online
    # Idle for three times the layer's socket timeout: nothing arrives meanwhile.
    with pytest.raises(TimeoutError):
        alice_client.socket.next_event(timeout=3)
    send_many(chat, bob, 1)
    alice_client.read_until(lambda c: len(c.delivered) == 1, timeout=5)

    # 300 typing events as fast as a socket can send them (the default layer would keep 100).
    for n in range(300):
        bob_socket.send({"type": "typing", "chat_id": str(chat.pk), "is_typing": n % 2 == 0})
    alice_client.read_until(lambda c: c.received["typing"] == 300, timeout=20)
    assert alice_client.received["resync"] == 0
