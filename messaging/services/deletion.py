"""Deleting messages for everyone: by their sender or a group admin, by a moderator, and
every message of an account that is being deleted."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from chatproject.files import file_delete
from chats.models import Chat
from chats.services import chat_lock
from messaging.events import publish_message, publish_reaction
from messaging.models import Attachment, Message, MessageEdit, Reaction
from messaging.selectors import message_queryset
from messaging.services.common import message_lock

BULK_BATCH_SIZE = 500


def message_delete(*, message_id, actor: User) -> None:
    """Delete a message for everyone: its sender, or an admin of its group, may. Deleting a
    tombstone again changes nothing."""
    with transaction.atomic():
        chat, membership, message = message_lock(message_id=message_id, user=actor)
        group_admin = chat.type == Chat.Type.GROUP and membership.is_admin
        if message.sender_id != actor.pk and not group_admin:
            raise PermissionDenied("Only the sender or a group admin can delete a message.")
        _tombstone(chat, [message])


def message_delete_by_moderator(*, message_id) -> None:
    """Delete a message for everyone from the admin (the moderator needs no membership)."""
    with transaction.atomic():
        chat, _, message = message_lock(message_id=message_id, user=None)
        _tombstone(chat, [message])


def messages_erase_for_user(*, user: User) -> None:
    """An account is going: every message it sent becomes a tombstone without a sender, and
    its reactions go. Chats are locked one after another in id order (see chat_lock)."""
    chat_ids = set(Message.objects.filter(sender=user).values_list("chat_id", flat=True))
    chat_ids |= set(Reaction.objects.filter(user=user).values_list("message__chat_id", flat=True))
    with transaction.atomic():
        for chat_id in sorted(chat_ids, key=str):
            try:
                chat = chat_lock(chat_id=chat_id, take_version=False)
            except Http404:  # deleted meanwhile (its last member went)
                continue
            _reactions_remove_all(chat, user)
            messages = list(Message.objects.filter(chat=chat, sender=user).order_by("seq"))
            _tombstone(chat, messages, clear_sender=True)


def _tombstone(chat: Chat, messages: list[Message], *, clear_sender: bool = False) -> None:
    """Erase content, file, history and reactions of the locked chat's `messages`; each
    takes the chat's next version and is announced as `message_deleted`."""
    if not clear_sender:
        messages = [message for message in messages if not message.is_deleted]
    if not messages:
        return
    ids = [message.pk for message in messages]
    _files_delete_on_commit(Attachment.objects.filter(message_id__in=ids))
    MessageEdit.objects.filter(message_id__in=ids).delete()
    Reaction.objects.filter(message_id__in=ids).delete()
    now = timezone.now()
    for message in messages:
        chat.version += 1
        message.version, message.content, message.is_deleted = chat.version, "", True
        message.deleted_at = message.deleted_at or now
        if clear_sender:
            message.sender = None
    fields = ["version", "content", "is_deleted", "deleted_at", "sender"]
    Message.objects.bulk_update(messages, fields, batch_size=BULK_BATCH_SIZE)
    chat.save(update_fields=["version"])
    for message in message_queryset().filter(pk__in=ids).order_by("version"):
        publish_message("message_deleted", message)


def _reactions_remove_all(chat: Chat, user: User) -> None:
    """Remove the user's reactions in the locked chat, one version and one
    `reaction_removed` each (the event lists the message's reactions once all are gone)."""
    reactions = list(
        Reaction.objects.filter(message__chat=chat, user=user).order_by("created_at", "id")
    )
    if not reactions:
        return
    Reaction.objects.filter(pk__in=[reaction.pk for reaction in reactions]).delete()
    messages = message_queryset().in_bulk({reaction.message_id for reaction in reactions})
    for reaction in reactions:
        chat.version += 1
        message = messages[reaction.message_id]
        message.version = chat.version
        publish_reaction("reaction_removed", message, user_id=user.pk, emoji=reaction.emoji)
    Message.objects.bulk_update(messages.values(), ["version"], batch_size=BULK_BATCH_SIZE)
    chat.save(update_fields=["version"])


def _files_delete_on_commit(attachments) -> None:
    names = list(attachments.values_list("file", flat=True))
    attachments.delete()
    if names:
        transaction.on_commit(lambda: _files_delete(names), robust=True)


def _files_delete(names: list[str]) -> None:
    for name in names:
        file_delete(name)
