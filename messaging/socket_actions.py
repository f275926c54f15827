"""What the socket does with a client frame: validate it, then call the same services and
selectors REST uses. Every failure becomes a FrameError, which the consumer sends as an
`error` event; the socket stays open."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from accounts import presence
from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.serializers import MeSerializer
from chatproject.database import database_call
from chatproject.middleware import DATABASE_DOWN_ERRORS
from chats import selectors as chat_selectors
from chats import services as chat_services
from chats.serializers import chats_data
from messaging import realtime
from messaging import services as message_services
from messaging.serializers import ONLINE_IDS, MessageSerializer
from messaging.throttles import send_rate_check

TYPING_EXPIRES_IN = 6
INITIAL_CHATS = 20


@dataclass
class FrameError(Exception):
    code: str
    detail: str
    retry_after: float | None = None


def parse_frame(text_data: str | None, bytes_data: bytes | None) -> dict:
    if text_data is None:
        raise FrameError("invalid_frame", "Frames are JSON text.")
    if len(text_data) > settings.SOCKET_FRAME_BYTES or (
        len(text_data.encode("utf-8", "surrogatepass")) > settings.SOCKET_FRAME_BYTES
    ):
        raise FrameError("frame_too_large", "Frames are limited to 128 KiB.")
    try:
        frame = orjson.loads(text_data)
    except orjson.JSONDecodeError:
        raise FrameError("invalid_json", "Not valid JSON.")
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise FrameError("invalid_frame", "A frame is a JSON object with a `type`.")
    if frame["type"] not in HANDLERS:
        raise FrameError("invalid_frame", f"Unknown frame type {frame['type'][:40]!r}.")
    return frame


async def handle(consumer, frame: dict) -> dict | None:
    """Run the frame's action; the reply for the sending socket, if any."""
    try:
        return await HANDLERS[frame["type"]](consumer, frame)
    except FrameError:
        raise
    except Http404:
        raise FrameError("not_found", "No such chat or message.")
    except PermissionDenied as error:
        raise FrameError("forbidden", str(error) or "Not allowed.")
    except ValidationError as error:
        raise FrameError("invalid", "; ".join(error.messages))
    except DATABASE_DOWN_ERRORS:
        raise FrameError("unavailable", "The service is unavailable; try again.")


def field(frame: dict, name: str, kind: type, *, required: bool = True):
    value = frame.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise FrameError("invalid_frame", f"`{name}` must be {kind.__name__}.")
    return value


def chat_id_field(frame: dict) -> str:
    try:
        return str(uuid.UUID(field(frame, "chat_id", str)))
    except ValueError:
        raise FrameError("invalid_frame", "`chat_id` must be a chat id.")


async def on_ping(consumer, frame):
    return {"type": "pong"}


async def on_typing(consumer, frame):
    chat_id = chat_id_field(frame)
    is_typing = field(frame, "is_typing", bool)
    if chat_id not in consumer.chat_ids:
        raise FrameError("not_found", "No such chat.")
    event = {
        "type": "typing",
        "chat_id": chat_id,
        "user_id": consumer.user_id,
        "is_typing": is_typing,
        "expires_in": TYPING_EXPIRES_IN,
    }
    await realtime.publish_to_chat_now(chat_id, event, skip_user_id=consumer.user_id)
    return None


async def on_send_message(consumer, frame):
    chat_id = chat_id_field(frame)
    client_id = field(frame, "client_id", str, required=False)
    reply_to = field(frame, "reply_to", int, required=False)
    content = frame.get("content")
    if not isinstance(content, str):
        raise FrameError("invalid", "`content` must be text.")
    if client_id is not None and len(client_id) > 64:
        raise FrameError("invalid_frame", "`client_id` is at most 64 characters.")

    @database_call
    def send():
        retry_after = send_rate_check(consumer.user)
        if retry_after:
            raise FrameError("rate_limited", "Sending too fast.", retry_after=retry_after)
        message, _ = message_services.message_send(
            chat_id=chat_id,
            sender=consumer.user,
            content=content,
            client_id=client_id,
            reply_to_id=reply_to,
        )
        # The sender is online: this is their socket.
        return MessageSerializer(message, context={ONLINE_IDS: {consumer.user_id}}).data

    message = await send()
    return {"type": "ack", "client_id": client_id, "message": message}


async def on_mark_read(consumer, frame):
    chat_id = chat_id_field(frame)
    seq = field(frame, "seq", int)
    if seq < 0:
        raise FrameError("invalid", "`seq` must not be negative.")
    await database_call(chat_services.chat_mark_read)(chat_id=chat_id, user=consumer.user, seq=seq)
    return None


HANDLERS = {
    "ping": on_ping,
    "typing": on_typing,
    "send_message": on_send_message,
    "mark_read": on_mark_read,
}


session_is_open = database_call(account_selectors.session_is_open)


@database_call
def chat_ids_of(user) -> set[str]:
    memberships = chat_selectors.visible_memberships(user=user)
    return {str(chat_id) for chat_id in memberships.values_list("chat_id", flat=True)}


def initial_data_of(user) -> tuple[dict, set[str]]:
    """`initial_data` for a socket of the user, and the ids of their contacts (who hear the
    user go online). A user with no more chats than the first page holds gets the page's
    counters as `sync`, from the same read."""
    memberships, next_cursor = chat_selectors.chat_page_for_user(user=user, limit=INITIAL_CHATS)
    if next_cursor is None:
        sync = chat_selectors.chat_sync_of(memberships)
    else:
        sync = chat_selectors.chat_sync_for_user(user=user)
    contacts = chat_selectors.contact_ids(user_id=user.pk)
    data = {
        "type": "initial_data",
        "user": MeSerializer(user).data,
        "chats": chats_data(memberships),
        "chats_next": next_cursor,
        "sync": sync,
        "online_users": sorted(presence.online_among(contacts)),
    }
    return data, contacts


initial_data = database_call(initial_data_of)


async def announce_online(user, contact_ids: set[str]) -> None:
    """Tell the user's contacts (as `initial_data` found them) that the user is online; the
    user was loaded as the socket connected, with their `last_seen`."""
    event = _presence_event(str(user.pk), is_online=True, last_seen=user.last_seen)
    await realtime.publish_to_users_now(contact_ids, event)


async def announce_offline(user_id: str) -> None:
    """Store the user's `last_seen` and tell their contacts.

    Published from the event loop, not from the database thread, so a process shutting
    down never leaves that thread waiting on a loop that is gone.
    """
    last_seen, contact_ids = await _mark_seen(user_id)
    event = _presence_event(user_id, is_online=False, last_seen=last_seen)
    await realtime.publish_to_users_now(contact_ids, event)


@database_call
def _mark_seen(user_id: str) -> tuple[datetime, set[str]]:
    last_seen = account_services.user_mark_seen(user_id=user_id)
    return last_seen, chat_selectors.contact_ids(user_id=user_id)


def _presence_event(user_id: str, *, is_online: bool, last_seen: datetime | None) -> dict:
    return {"type": "presence", "user_id": user_id, "is_online": is_online, "last_seen": last_seen}
