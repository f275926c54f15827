"""Chats and messages made through the real services, as users would make them."""

from chats.models import Chat
from chats.services import direct_chat_get_or_create, group_create
from messaging.models import Message
from messaging.services import message_send


def direct_chat(user, other) -> Chat:
    chat, _ = direct_chat_get_or_create(user=user, other_user_id=other.pk)
    return chat


def group_chat(creator, *members, name="Team") -> Chat:
    return group_create(creator=creator, name=name, member_ids=[m.pk for m in members])


def send(chat, sender, content="hello", **kwargs) -> Message:
    message, _ = message_send(chat_id=chat.pk, sender=sender, content=content, **kwargs)
    return message


def messages(chat, sender, count: int) -> list[Message]:
    return [send(chat, sender, f"message {n}") for n in range(count)]
