"""Limits on what daphne's server (Twisted, and Autobahn for sockets) takes from a client.

Before the application sees a request, Twisted receives its whole body (into a temporary
file past 100 KB), daphne then queues all of it in memory for the application, and Twisted
also parses every multipart POST body whole with the `email` package to fill
`request.args`, which daphne never reads. So a 25 MB upload cost the server 300 MB, and a
body of any size was held in memory before RequestGuardMiddleware could answer 413.

`harden_daphne()` switches the form parsing off and refuses a body over the largest limit
of the API (an attachment plus its form fields) as soon as its length is known: from its
Content-Length before any of it is stored, or, sent chunked, once that many bytes came.
A chunked body under the limit reaches the application with the Content-Length it turned
out to have: Django's multipart parser reads nothing without one.

Autobahn, past daphne's 1 MiB socket frame limit, dropped the TCP connection (the client
saw 1006) where API.md promises a close with 1009 "message too big": with `failByDrop` off
it sends the close frame, as for invalid UTF-8 (1007).

Twisted queues every write until the reactor reports the socket writable: per frame a
registration with epoll, a turn of the loop and an unregistration, each a system call and
a release of the GIL. Fan-out is one frame per member per message, so that was a third of
the event loop's time. `_write_now` sends at once when nothing is queued (as asyncio's own
transports do) and leaves only what the kernel did not take to Twisted's queue.

A fan-out writes one text to every socket of a group. Through ASGI each write went from the
consumer through daphne to Autobahn, which builds the frame anew per socket: a seventh of a
loaded process' time. `text_frame` builds it once and `write_frame` hands it to each open
socket's transport, in order with what the consumer sends the ASGI way (both write at once).
"""

import struct

from daphne.ws_protocol import WebSocketProtocol
from django.conf import settings
from twisted.internet.tcp import Server
from twisted.web.http import Request

from chatproject.middleware import MULTIPART_OVERHEAD_BYTES

LINGER_BYTES = 64 * 1024 * 1024

QUEUED_WRITE = Server.write
CLOSING_STATES = {WebSocketProtocol.STATE_CLOSING, WebSocketProtocol.STATE_CLOSED}

TOO_LARGE_BODY = b'{"detail": "Request body too large."}'
TOO_LARGE = (
    b"HTTP/1.1 413 Request Entity Too Large\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: %d\r\n"
    b"Connection: close\r\n\r\n" % len(TOO_LARGE_BODY)
) + TOO_LARGE_BODY


def body_limit() -> int:
    return max(settings.MAX_UPLOAD_BYTES, settings.MAX_AVATAR_BYTES) + MULTIPART_OVERHEAD_BYTES


def harden_daphne() -> None:
    from daphne.http_protocol import WebRequest
    from daphne.ws_protocol import WebSocketFactory

    # Twisted and Autobahn set these on each instance (Request.__init__, the factory's
    # resetProtocolOptions), hence properties that keep the value given here.
    WebRequest._parsePOSTFormSubmission = always(False)
    WebSocketFactory.failByDrop = always(False)
    WebRequest.gotLength = _got_length
    WebRequest.handleContentChunk = _handle_content_chunk
    WebRequest.requestReceived = _request_received
    Server.write = _write_now


def always(value) -> property:
    return property(lambda instance: value, lambda instance, _: None)


def _got_length(request, length) -> None:
    Request.gotLength(request, length)
    request.body_bytes = 0
    request.refused = False
    request.chunked = length is None
    if length is not None and length > body_limit():
        # No "100 Continue" after the 413: a client that asked need not send the body at all.
        request.requestHeaders.removeHeader(b"Expect")
        _refuse(request)


def _handle_content_chunk(request, data: bytes) -> None:
    request.body_bytes += len(data)
    if request.refused:
        if request.body_bytes > body_limit() + LINGER_BYTES:
            request.channel.loseConnection()
        return  # read and dropped
    if request.body_bytes > body_limit():
        _refuse(request)
        return
    Request.handleContentChunk(request, data)


def _request_received(request, command, path, version) -> None:
    if request.refused:
        request.channel.loseConnection()  # the body is read: closing now resets nothing
        return
    if request.chunked:
        request.requestHeaders.removeHeader(b"Transfer-Encoding")
        request.requestHeaders.setRawHeaders(b"Content-Length", [b"%d" % request.body_bytes])
    Request.requestReceived(request, command, path, version)


def _refuse(request) -> None:
    """Answer 413 now, and drop the rest of the body as it comes (up to LINGER_BYTES more,
    then cut the connection): closing while the client still sends would reset the
    connection, and with it the answer it had not read yet."""
    request.refused = True
    request.channel.transport.write(TOO_LARGE)


def _write_now(connection: Server, data: bytes) -> None:
    if not (isinstance(data, bytes) and _nothing_queued(connection)):
        QUEUED_WRITE(connection, data)
        return
    sent = connection.writeSomeData(data)  # 0 when the socket would block
    if isinstance(sent, Exception):
        sent = 0  # the queued write meets the error again and Twisted closes the connection
    if sent < len(data):
        QUEUED_WRITE(connection, data[sent:])


def _nothing_queued(connection: Server) -> bool:
    return (
        connection.connected
        and not connection.TLS
        and not connection.disconnecting
        and not connection._writeDisconnected
        and not connection._tempDataLen
        and connection.offset == len(connection.dataBuffer)
    )


def text_frame(text: str) -> bytes:
    """`text` as one WebSocket text frame from a server (RFC 6455 5.2: final, unmasked, not
    compressed): the same bytes for every socket it goes to."""
    payload = text.encode()
    length = len(payload)
    if length < 126:
        return struct.pack("!BB", 0x81, length) + payload
    if length < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, length) + payload
    return struct.pack("!BBQ", 0x81, 127, length) + payload


def write_frame(send, frame: bytes) -> bool:
    """Write `frame` to the socket behind `send`, an ASGI send callable of daphne's, if that
    socket is open and sends plain frames; False when the caller must send the ASGI way."""
    protocol = _protocol_of(send)
    if not (
        protocol is not None
        and protocol.state == WebSocketProtocol.STATE_OPEN
        and protocol._perMessageCompress is None
    ):
        return False
    protocol.transport.write(frame)
    return True


def socket_closing(send) -> bool:
    """Whether the socket behind `send` has begun to close. Daphne learns that a socket is
    gone only once its TCP connection is, and until then passes every send on to Autobahn,
    which raises for a socket past OPEN."""
    protocol = _protocol_of(send)
    return protocol is not None and protocol.state in CLOSING_STATES


def _protocol_of(send) -> WebSocketProtocol | None:
    protocol = getattr(send, "args", (None,))[0]  # daphne's partial(handle_reply, protocol)
    return protocol if isinstance(protocol, WebSocketProtocol) else None
