"""What the message services share: the conflict error, text checks, the locked message."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404

from accounts.models import User
from chatproject.text import validate_text
from chats.models import Chat, Membership
from chats.selectors import membership_get
from chats.services import chat_lock
from messaging.models import Message


class MessageConflict(ValidationError):
    """Acting on a deleted message, or reporting a message twice: 409 over REST.

    A ValidationError, so a caller that maps only those (the socket) still answers with a
    clear `invalid` rather than failing."""


def content_check(content, *, required: bool) -> str:
    """Message text as sent: a string of at most MESSAGE_MAX_LENGTH code points, no NUL or
    unpaired surrogates, and not blank unless `required` is False (a file's caption)."""
    if content is None and not required:
        return ""
    if not isinstance(content, str):
        raise ValidationError({"content": ["Must be text."]})
    try:
        validate_text(content)
    except ValidationError as error:
        raise ValidationError({"content": error.messages})
    if len(content) > settings.MESSAGE_MAX_LENGTH:
        limit = settings.MESSAGE_MAX_LENGTH
        raise ValidationError({"content": [f"At most {limit} characters."]})
    if required and not content.strip():
        raise ValidationError({"content": ["A message cannot be empty."]})
    return content


def message_lock(*, message_id, user: User | None) -> tuple[Chat, Membership | None, Message]:
    """The message's chat locked (chat_lock: the chat row first, then its messages; no
    version taken yet), the user's membership, and the message read under the lock.

    Http404 if the user may not see the message; `user=None` is a moderator (no membership).
    """
    try:
        chat_id = Message.objects.filter(pk=message_id).values_list("chat_id", flat=True).first()
    except (ValueError, TypeError):
        raise Http404
    if chat_id is None:
        raise Http404
    chat = chat_lock(chat_id=chat_id, take_version=False)
    message = Message.objects.get(pk=message_id)
    if user is None:
        return chat, None, message
    membership = membership_get(user=user, chat_id=chat_id)
    if message.seq <= membership.cleared_seq:
        raise Http404
    return chat, membership, message


def version_take(chat: Chat, message: Message) -> None:
    """Take the chat's next version and stamp it on `message` (which the caller saves)."""
    chat.version += 1
    chat.save(update_fields=["version"])
    message.version = chat.version


def not_deleted(message: Message) -> None:
    if message.is_deleted:
        raise MessageConflict("The message was deleted.", code="deleted")
