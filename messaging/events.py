"""Payloads of the server -> client events about chats and messages (API.md, WebSocket), and
whom they go to. Services and signal handlers call these inside their transaction; realtime
sends after the commit. Every event about a chat carries `chat_id` and the chat's `version`
after the change."""

from messaging import realtime
from messaging.models import Message
from messaging.serializers import MessageSerializer, reactions_summary


def chat_event(event_type: str, *, chat_id, version: int, **fields) -> dict:
    return {"type": event_type, "chat_id": str(chat_id), "version": version, **fields}


def message_event(event_type: str, message: Message) -> dict:
    """new_message / message_updated / message_deleted, from a message loaded with
    messaging.selectors.message_queryset(); its `version` is the chat's after the change."""
    data = MessageSerializer(message).data
    extra = {}
    if event_type == "message_deleted":
        extra = {"message_id": message.pk, "seq": message.seq}
    return chat_event(
        event_type, chat_id=message.chat_id, version=message.version, **extra, message=data
    )


def publish_message(event_type: str, message: Message) -> None:
    realtime.publish_to_chat(message.chat_id, message_event(event_type, message))


def publish_reaction(event_type: str, message: Message, *, user_id, emoji: str) -> None:
    """reaction_added / reaction_removed, with the message's reactions after the change."""
    payload = chat_event(
        event_type,
        chat_id=message.chat_id,
        version=message.version,
        message_id=message.pk,
        user_id=str(user_id),
        emoji=emoji,
        reactions=reactions_summary(message),
    )
    realtime.publish_to_chat(message.chat_id, payload)
