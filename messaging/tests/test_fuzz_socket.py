"""Hypothesis fuzzes the socket with malformed frames while five bystanders chat.

One socket (Alice's) sends FUZZ_SOCKET_FRAMES malformed frames: text that is not JSON, JSON
that is not an object, objects without a known `type`, known types with a wrong, missing or
refused field (huge numbers, empty or oversized text, NUL, ids of nothing), escaped and raw
lone surrogates, nesting past the parser's depth limit, binary frames and frames over
128 KiB. Every one must be answered with an `error` event, and the socket must stay open.
Every tenth frame she also sends a real message; the five other members' sockets must get
every one of them, and the server must log no error.

    .venv/bin/pytest messaging/tests/test_fuzz_socket.py             # CI: in-process and live
    FUZZ_SOCKET_FRAMES=10000 .venv/bin/pytest messaging/tests/test_fuzz_socket.py -k live -s
"""

import asyncio
import json
import logging
import os
import threading
import uuid

import pytest
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from accounts.services import session_start
from accounts.tests.factories import UserFactory
from chatproject.asgi import application
from chatproject.testing import DaphneProcess, print_figure, server_env
from messaging.tests.factories import group_chat

FRAMES = int(os.environ.get("FUZZ_SOCKET_FRAMES", "1000"))
LIVE_FRAMES = int(os.environ.get("FUZZ_SOCKET_FRAMES", "300"))
VALID_EVERY = 10
BYSTANDERS = 5
FRAME_BYTES = 128 * 1024
HARD_FRAME_BYTES = 1024 * 1024  # daphne closes the socket (1009) beyond this
PARSER_DEPTH = 1024  # orjson's nesting limit
ERROR_CODES = {"invalid_json", "invalid_frame", "frame_too_large", "not_found", "forbidden"}
ERROR_CODES |= {"invalid", "rate_limited"}
LIFTED_LIMITS = {"SOCKET_FRAME_RATE": "1000000/s", "THROTTLE_SEND": "1000000/min"}

pytestmark = pytest.mark.django_db(transaction=True)


# --- Frames ---------------------------------------------------------------------------------

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def parses_as_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def encoded(value) -> st.SearchStrategy:
    """`value` as JSON text, ASCII-escaped or not."""
    return st.booleans().map(lambda ascii_only: json.dumps(value, ensure_ascii=ascii_only))


def bad_chat_ids() -> st.SearchStrategy:
    """Anything but the id of a chat the sender is in: wrong types, text that is no UUID,
    the UUID of a chat that does not exist (or is not hers)."""
    return (
        json_values.filter(lambda value: not isinstance(value, str))
        | st.text(max_size=40).filter(lambda text: not is_uuid(text))
        | st.uuids().map(str)
    )


def bad_field(name: str) -> st.SearchStrategy:
    """A (field, value) pair that makes a frame of `name` invalid."""
    wrong = {
        "send_message": {
            "content": json_values.filter(lambda value: not isinstance(value, str))
            | st.sampled_from(["", " ", "\n\t ", "nul\x00byte", "x" * 10_001]),
            "client_id": json_values.filter(lambda value: not isinstance(value, str | None))
            | st.text(min_size=65, max_size=80),
            # No message has these ids: the real ones are small and positive (null: no reply).
            "reply_to": json_values.filter(lambda value: value is not None and not is_int(value))
            | st.integers(min_value=2**40, max_value=2**64 - 1)
            | st.integers(min_value=-(2**63), max_value=0),
        },
        "typing": {
            "is_typing": json_values.filter(lambda value: not isinstance(value, bool)),
        },
        "mark_read": {
            "seq": json_values.filter(lambda value: not is_int(value))
            | st.integers(min_value=-(2**63), max_value=-1),
        },
    }[name]
    pairs = [st.tuples(st.just(field), values) for field, values in wrong.items()]
    return st.one_of(st.tuples(st.just("chat_id"), bad_chat_ids()), *pairs)


VALID_BASES = {
    "send_message": {"content": "hi", "client_id": "c1"},
    "typing": {"is_typing": True},
    "mark_read": {"seq": 1},
}


@st.composite
def broken_known_frames(draw, chat_id: str):
    """A known `type` with one field made wrong, maybe with extra unknown keys."""
    name = draw(st.sampled_from(sorted(VALID_BASES)))
    frame = {"type": name, "chat_id": chat_id, **VALID_BASES[name]}
    field, value = draw(bad_field(name))
    if value is None and draw(st.booleans()):
        frame.pop(field)
    else:
        frame[field] = value
    extras = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3))
    frame.update({key: value for key, value in extras.items() if key not in frame})
    return draw(encoded(frame))


def untyped_objects() -> st.SearchStrategy:
    known = {"ping", *VALID_BASES}
    no_type = st.dictionaries(st.text(max_size=8), json_values, max_size=4).map(
        lambda frame: {key: value for key, value in frame.items() if key != "type"}
    )
    odd_type = st.tuples(
        json_values.filter(lambda value: not (isinstance(value, str) and value in known)), no_type
    ).map(lambda pair: {**pair[1], "type": pair[0]})
    return (no_type | odd_type).flatmap(encoded)


def send_message_text(chat_id: str, content_json: str) -> str:
    """A send_message frame with `content_json` as its content, verbatim."""
    return '{"type":"send_message","chat_id":"' + chat_id + '","content":' + content_json + "}"


def lone_surrogates(chat_id: str, *, raw: bool) -> st.SearchStrategy:
    """Content with an unpaired UTF-16 surrogate: escaped in JSON, or (in-process only, a
    real socket carries UTF-8) as a raw character of the frame's text."""
    surrogates = st.integers(min_value=0xD800, max_value=0xDFFF)
    escaped = surrogates.map(lambda code: send_message_text(chat_id, f'"a\\u{code:04x}"'))
    if not raw:
        return escaped
    raw_text = surrogates.map(
        lambda code: json.dumps(
            {"type": "send_message", "chat_id": chat_id, "content": "a" + chr(code)},
            ensure_ascii=False,
        )
    )
    return escaped | raw_text


def deep_nesting() -> st.SearchStrategy:
    depths = st.integers(min_value=PARSER_DEPTH + 1, max_value=20_000)
    return depths.flatmap(
        lambda depth: st.sampled_from(
            [
                "[" * depth + "]" * depth,
                '{"type":"ping","x":' + '{"a":' * depth + "1" + "}" * depth + "}",
            ]
        )
    )


def oversize(chat_id: str) -> st.SearchStrategy:
    """Over 128 KiB (in characters, or only in UTF-8 bytes), under daphne's 1 MiB."""
    ascii_text = st.integers(FRAME_BYTES + 1, HARD_FRAME_BYTES - 1024).map(lambda n: "x" * n)
    two_byte = st.integers(FRAME_BYTES // 2 + 1, FRAME_BYTES - 1024).map(lambda n: "é" * n)
    return (ascii_text | two_byte).map(lambda text: send_message_text(chat_id, f'"{text}"'))


def not_json() -> st.SearchStrategy:
    valid = json.dumps({"type": "send_message", "chat_id": str(uuid.uuid4()), "content": "x"})
    truncated = st.integers(1, len(valid) - 1).map(lambda end: valid[:end])
    return (st.text(max_size=60) | truncated).filter(lambda text: not parses_as_json(text))


def bad_frames(chat_id: str, *, raw_surrogates: bool) -> st.SearchStrategy:
    """(kind, payload): kind is "text" or "bytes"."""
    text = st.one_of(
        not_json(),
        json_values.filter(lambda value: not isinstance(value, dict)).flatmap(encoded),
        untyped_objects(),
        broken_known_frames(chat_id),
        lone_surrogates(chat_id, raw=raw_surrogates),
        deep_nesting(),
        oversize(chat_id),
    )
    return text.map(lambda payload: ("text", payload)) | st.binary(max_size=200).map(
        lambda payload: ("bytes", payload)
    )


# --- Sockets --------------------------------------------------------------------------------


class LoopThread:
    """One event loop in a thread: the sockets live there while Hypothesis, which runs
    examples synchronously, drives them one frame at a time."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        """Stop what the sockets left running (presence heartbeats and grace timers)."""
        self.run(self._cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    @staticmethod
    async def _cancel_the_rest() -> None:
        tasks = asyncio.all_tasks() - {asyncio.current_task()}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class InProcessSocket:
    def __init__(self, token: str):
        self.communicator = WebsocketCommunicator(application, f"/ws/?token={token}")

    async def open(self) -> dict:
        connected, _ = await self.communicator.connect()
        assert connected
        return await self.receive()

    async def send(self, kind: str, payload) -> None:
        # send_input: the communicator's send_to refuses an empty frame, a client may not.
        await self.communicator.send_input({"type": "websocket.receive", kind: payload})

    async def receive(self, timeout: float = 10) -> dict:
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def close(self) -> None:
        await self.communicator.disconnect()


class LiveSocket:
    def __init__(self, ws_url: str, token: str):
        self.url = f"{ws_url}?token={token}"

    async def open(self) -> dict:
        # No keepalive pings: their random payloads would be drawn while Hypothesis generates.
        self.ws = await connect(
            self.url, max_size=None, max_queue=None, open_timeout=10, ping_interval=None
        )
        return await self.receive()

    async def send(self, kind: str, payload) -> None:
        await self.ws.send(payload)

    async def receive(self, timeout: float = 10) -> dict:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def close(self) -> None:
        await self.ws.close()


async def next_of_type(socket, event_type: str, **fields) -> dict:
    while True:
        event = await socket.receive()
        if event["type"] == event_type and fields.items() <= event.items():
            return event


async def sent_client_ids(socket, expected: set[str]) -> set[str]:
    """The client ids of the `new_message` events the socket got, read until all `expected`
    arrived (or none came for 10 s)."""
    seen = set()
    try:
        while not expected <= seen:
            event = await socket.receive()
            if event["type"] == "new_message":
                seen.add(event["message"]["client_id"])
    except TimeoutError:
        pass
    return seen & expected


def chat_of_six() -> tuple[str, str, list[str]]:
    """(chat id, Alice's token, the five bystanders' tokens) of a group of six."""
    alice = UserFactory(username="alice")
    bystanders = [UserFactory(username=f"bystander{n}") for n in range(BYSTANDERS)]
    chat = group_chat(alice, *bystanders)
    tokens = [session_start(user=user)["access"] for user in bystanders]
    return str(chat.pk), session_start(user=alice)["access"], tokens


def fuzz_socket(make_socket, tokens, chat_id: str, *, frames: int, raw_surrogates: bool):
    """Run the fuzz; (frames sent, {code: count}, delivered fraction per bystander)."""
    loop = LoopThread()
    attacker_token, bystander_tokens = tokens
    attacker = make_socket(attacker_token)
    bystanders = [make_socket(token) for token in bystander_tokens]
    for socket in [attacker, *bystanders]:
        assert loop.run(socket.open())["type"] == "initial_data"
    codes: dict[str, int] = {}
    valid_ids: list[str] = []

    async def exchange(kind, payload):
        await attacker.send(kind, payload)
        return await next_of_type(attacker, "error")

    async def send_valid(client_id):
        frame = {"type": "send_message", "chat_id": chat_id, "content": client_id}
        await attacker.send("text", json.dumps({**frame, "client_id": client_id}))
        await next_of_type(attacker, "ack", client_id=client_id)

    @given(frame=bad_frames(chat_id, raw_surrogates=raw_surrogates))
    @settings(
        max_examples=frames, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def one_frame(frame):
        error = loop.run(exchange(*frame))
        assert error["code"] in ERROR_CODES, (frame, error)
        codes[error["code"]] = codes.get(error["code"], 0) + 1
        if sum(codes.values()) % VALID_EVERY == 0:
            valid_ids.append(f"valid-{len(valid_ids)}")
            loop.run(send_valid(valid_ids[-1]))

    try:
        one_frame()
        loop.run(attacker.send("text", '{"type":"ping"}'))
        assert loop.run(next_of_type(attacker, "pong"))  # still open and answering
        delivered = [
            len(loop.run(sent_client_ids(socket, set(valid_ids)), timeout=120)) / len(valid_ids)
            for socket in bystanders
        ]
    finally:
        for socket in [attacker, *bystanders]:
            loop.run(socket.close())
        loop.close()
    return sum(codes.values()), codes, delivered


def report(request, name: str, frames: int, codes: dict, delivered: list[float]) -> None:
    print_figure(
        request.config,
        f"{name}: {frames} malformed frames, all answered with `error` {codes}; "
        f"bystanders got {min(delivered):.0%} of the messages sent meanwhile",
    )


def test_malformed_frames_in_process_are_answered_and_bystanders_get_everything(
    settings, caplog, request
):
    for name, value in LIFTED_LIMITS.items():
        setattr(settings, name, value)
    chat_id, attacker, bystanders = chat_of_six()
    caplog.set_level(logging.WARNING)

    frames, codes, delivered = fuzz_socket(
        InProcessSocket, (attacker, bystanders), chat_id, frames=FRAMES, raw_surrogates=True
    )

    assert frames >= FRAMES
    assert delivered == [1.0] * BYSTANDERS
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
    report(request, "fuzz_socket in-process", frames, codes, delivered)


@pytest.mark.e2e
@pytest.mark.postgres
@pytest.mark.redis
def test_malformed_frames_to_daphne_are_answered_and_it_logs_no_error(request):
    chat_id, attacker, bystanders = chat_of_six()
    server = DaphneProcess(server_env(**LIFTED_LIMITS)).start()
    try:
        frames, codes, delivered = fuzz_socket(
            lambda token: LiveSocket(server.ws_url, token),
            (attacker, bystanders),
            chat_id,
            frames=LIVE_FRAMES,
            raw_surrogates=False,
        )
        log = "".join(server.output)  # up to the end of the fuzz, before the shutdown
    finally:
        server.stop()

    assert frames >= LIVE_FRAMES
    assert delivered == [1.0] * BYSTANDERS
    assert "Traceback" not in log and " ERROR " not in log, log[-5000:]
    report(request, "fuzz_socket daphne", frames, codes, delivered)
