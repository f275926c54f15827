"""In-process sockets through the whole ASGI stack, for the hardening tests."""

from channels.testing import WebsocketCommunicator

from chatproject.asgi import application


async def open_socket(token: str | None) -> WebsocketCommunicator:
    """A socket of `token` that has read its `initial_data`; without a token, one that the
    server accepted and closed with 4401."""
    communicator = WebsocketCommunicator(application, f"/ws/?token={token}" if token else "/ws/")
    connected, _ = await communicator.connect()
    assert connected
    first = await communicator.receive_output(timeout=5)
    assert first.get("code") == 4401 if token is None else first["type"] == "websocket.send"
    return communicator


async def replies_to(communicator: WebsocketCommunicator, frame: dict) -> list[dict]:
    """What the socket answered to `frame` (errors and acks), read up to a ping's pong."""
    await communicator.send_json_to(frame)
    if frame["type"] != "ping":
        await communicator.send_json_to({"type": "ping"})
    replies = []
    while (event := await communicator.receive_json_from(timeout=5))["type"] != "pong":
        if event["type"] in {"error", "ack"}:
            replies.append(event)
    return replies


async def next_of_type(communicator: WebsocketCommunicator, event_type: str) -> dict:
    while (event := await communicator.receive_json_from(timeout=5))["type"] != event_type:
        pass
    return event
