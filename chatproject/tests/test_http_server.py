"""What a live daphne takes from a client: request bodies, socket frames
(chatproject/http_server.py)."""

import socket
import struct
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from accounts.services import session_start, sessions_end_all
from chatproject.testing import (
    DaphneProcess,
    SocketClient,
    http,
    server_env,
    websocket_by_hand,
)
from chatproject.tests.hostile_files import BOUNDARY, MULTIPART_TYPE
from messaging.models import Message
from messaging.tests.factories import group_chat

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]
MB = 1024 * 1024
UPLOAD_MB = 8
LIMIT_ENV = {"MAX_UPLOAD_BYTES": UPLOAD_MB * MB, "MAX_AVATAR_BYTES": MB}


@pytest.fixture
def server():
    process = DaphneProcess(server_env(**LIMIT_ENV)).start()
    yield process
    process.stop()


def exchange(server, head: str, body_pieces=()) -> bytes:
    """Send a request's head, then body pieces until the server answers; its answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        for piece in body_pieces:
            try:
                sock.sendall(piece)
            except OSError:
                break
        return sock.recv(65536)


def peak_rss_kb(server) -> int:
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_body_over_the_limit_is_refused_from_its_length_before_it_is_sent(server):
    head = "POST /api/v1/chats HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
    answer = exchange(server, head + f"Content-Length: {10**12}\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in answer
    assert answer.endswith(b'{"detail": "Request body too large."}')


def test_a_chunked_body_is_refused_once_it_passes_the_limit(server):
    head = "POST /api/v1/chats HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, bytes(64 * 1024))

    answer = exchange(server, head, [chunk] * 16 * (UPLOAD_MB + 4))  # 4 MB over the limit

    assert answer.startswith(b"HTTP/1.1 413 ")


def test_a_chunked_upload_under_the_limit_is_stored_whole(server, alice, bob):
    chat = group_chat(alice, bob)
    token = session_start(user=alice)["access"]
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'
    body = part.encode() + bytes(300_000) + f"\r\n--{BOUNDARY}--\r\n".encode()
    head = (
        f"POST /api/v1/chats/{chat.pk}/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: {MULTIPART_TYPE}\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    pieces = [body[start : start + 65536] for start in range(0, len(body), 65536)]

    answer = exchange(server, head, [b"%x\r\n%s\r\n" % (len(p), p) for p in [*pieces, b""]])

    assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]
    assert Message.objects.get(chat=chat).attachment.size == 300_000


def test_an_upload_costs_the_server_about_its_size_in_memory(server, alice, bob):
    """Twisted parsed each multipart body whole with the email package: 12 times its size."""
    chat = group_chat(alice, bob)
    token = session_start(user=alice)["access"]
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'
    body = part.encode() + bytes(UPLOAD_MB * MB - 1024) + f"\r\n--{BOUNDARY}--\r\n".encode()
    head = (
        f"POST /api/v1/chats/{chat.pk}/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: {MULTIPART_TYPE}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    before = peak_rss_kb(server)

    answer = exchange(server, head, [body])

    assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]
    assert peak_rss_kb(server) - before < 3 * UPLOAD_MB * 1024  # KB: not 12 times the body


def test_a_socket_that_reads_slowly_gets_every_event_whole_and_in_order(alice, bob):
    """Frames go out at once while the socket takes them, the rest queues (chatproject/
    http_server.py): 5 MB of events behind a 4 KB receive window fill the server's send
    buffer (at most 4 MB here), so most of them wait in the queue."""
    server = DaphneProcess(server_env(THROTTLE_SEND="10000/min", SOCKET_FRAME_RATE="1000/s"))
    server.start()
    chat = group_chat(alice, bob)
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", server.port))
    reader = SocketClient(server.ws_url, session_start(user=bob)["access"], sock=slow, max_queue=1)
    sender = SocketClient(server.ws_url, session_start(user=alice)["access"])
    for client in (reader, sender):
        assert client.next_event()["type"] == "initial_data"
    contents = [f"{n:03d}" + "x" * 9_997 for n in range(500)]
    try:
        for content in contents:
            sender.send({"type": "send_message", "chat_id": str(chat.pk), "content": content})
        for content in contents:
            assert sender.next_of_type("ack")["message"]["content"] == content

        received = [reader.next_of_type("new_message")["message"]["content"] for _ in contents]
    finally:
        server.stop()
    assert received == contents


def test_a_multipart_body_twisted_cannot_parse_reaches_django(server):
    body = b"not a multipart body at all"
    head = (
        f"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {MULTIPART_TYPE}"
        f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    answer = exchange(server, head, [body])

    assert answer.startswith(b"HTTP/1.1 415 ")  # the API's answer, not Twisted's bare 400
    assert b'"detail"' in answer


def test_a_socket_frame_over_1_mib_closes_the_socket_with_1009(server, alice):
    client = SocketClient(server.ws_url, session_start(user=alice)["access"])
    assert client.next_event()["type"] == "initial_data"

    client.ws.send("x" * (MB + 1))

    with pytest.raises(ConnectionClosed) as closed:
        client.next_event(timeout=5)
    assert closed.value.rcvd.code == 1009  # a close frame, not a dropped connection (1006)


def test_events_for_a_socket_the_server_is_closing_are_dropped_quietly(server, alice, bob):
    chat = group_chat(alice, bob)
    alice_socket = raw_socket(server, session_start(user=alice)["access"])
    bob_token = session_start(user=bob)["access"]
    bob_socket = SocketClient(server.ws_url, bob_token)
    bob_socket.next_of_type("initial_data")

    sessions_end_all(user=alice)  # the server closes alice's socket: 4401
    while read_frame(alice_socket)[0] != CLOSE_OPCODE:
        pass
    # Alice never answers the close, so her socket stays in its close handshake: still in
    # the chat's group, the server's writes to it refused.
    for n in range(2):
        url = f"{server.http_url}/api/v1/chats/{chat.pk}/messages"
        http("POST", url, token=bob_token, body={"content": f"m{n}", "client_id": f"c{n}"})
    bob_socket.next_of_type("new_message", chat_id=str(chat.pk))
    last = bob_socket.next_of_type("new_message", chat_id=str(chat.pk))  # m0 went to both

    assert last["message"]["content"] == "m1"
    bob_socket.close()
    alice_socket.close()
    log = server.stop()
    assert "Traceback" not in log and "not delivered" not in log and "failed" not in log, log


CLOSE_OPCODE = 0x8


def raw_socket(server, token: str) -> socket.socket:
    """A socket opened by hand, its handshake answered: it answers nothing unless the test
    does."""
    sock = websocket_by_hand(server, token)
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += received(sock, 1)
    assert head.startswith(b"HTTP/1.1 101 "), head
    return sock


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """(opcode, payload) of the next frame from the server (never masked)."""
    first, second = received(sock, 2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", received(sock, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", received(sock, 8))
    return first & 0x0F, received(sock, length)


def received(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        piece = sock.recv(size - len(data))
        assert piece, "the server closed the connection"
        data += piece
    return data


LOGIN = "POST /api/v1/auth/login"
ODD_BODIES = {
    "JSON nested 100,000 deep": ("application/json", "[" * 100_000 + "]" * 100_000),
    "NaN": ("application/json", '{"username": NaN, "password": "x"}'),
    "invalid UTF-8": ("application/json", '{"username": "\xff", "password": "x"}'),
    "multipart without boundary": ("multipart/form-data", "hello"),
    "form-encoded": ("application/x-www-form-urlencoded", "username=a&password=b"),
}
ODD_REQUESTS = {  # (request line, headers, body)
    "Content-Length not a number": (LOGIN, ["Content-Length: abc"], ""),
    "negative Content-Length": (LOGIN, ["Content-Length: -5"], ""),
    "bad chunk size": (LOGIN, ["Transfer-Encoding: chunked"], "zz\r\n"),
    "invalid UTF-8 in the path": ("GET /api/v1/chats/%ff", [], ""),
    "NUL in the path": ("GET /api/v1/users/%00", [], ""),
    "70 KB path": ("GET /api/v1/" + "a" * 70_000, [], ""),
    **{
        name: (LOGIN, [f"Content-Type: {kind}", f"Content-Length: {len(body)}"], body)
        for name, (kind, body) in ODD_BODIES.items()
    },
}


def test_odd_raw_requests_get_a_4xx_and_no_traceback(server):
    for name, (line, headers, body) in ODD_REQUESTS.items():
        head = "\r\n".join([f"{line} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *headers])
        answer = exchange(server, f"{head}\r\n\r\n", [body.encode("latin-1")])
        # Twisted closes on a request line it will not read (the 70 KB path), unanswered.
        assert answer == b"" or answer[9:10] == b"4", (name, answer[:200])
    assert "Traceback" not in server.stop()
