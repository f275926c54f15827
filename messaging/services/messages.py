"""Sending, posting system notices and editing messages."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from chatproject.files import file_delete, file_save
from chats.models import Chat, Membership
from chats.selectors import membership_get
from chats.services import (
    chat_lock_for_message,
    chat_unhide_for_members,
    read_pointer_advance,
)
from messaging.events import publish_message
from messaging.models import Attachment, Message, MessageEdit
from messaging.selectors import message_load, message_queryset
from messaging.services.common import content_check, message_lock, not_deleted, version_take
from messaging.uploads import UploadKind, upload_inspect, upload_name_clean

ATTACHMENT_FOLDER = "attachments"
CLIENT_ID_MAX_LENGTH = Message._meta.get_field("client_id").max_length


@dataclass(frozen=True)
class StoredUpload:
    name: str
    original_name: str
    size: int
    kind: UploadKind


def message_send(
    *,
    chat_id,
    sender: User,
    content: str | None = "",
    client_id: str | None = None,
    reply_to_id: int | None = None,
    upload=None,
) -> tuple[Message, bool]:
    """Post a message (text, or a file with an optional caption); (message, created).

    A repeated `client_id` of the sender in the chat returns the first message and creates
    nothing: the unique constraint on it refuses the second insert, however the sends race,
    and a repeat whose checks no longer pass (its reply target deleted since) still gets the
    message the first send stored. Takes `seq` and `version` under the chat's lock, moves
    the sender's read pointer without announcing it, and brings a hidden direct chat back
    for the member who hid it. The file is stored before the lock is taken (never while
    holding it) and removed again if nothing uses it.
    """
    content = content_check(content, required=upload is None)
    _client_id_check(client_id)
    stored = None
    if upload is not None:
        membership_get(user=sender, chat_id=chat_id)  # a non-member's file is never stored
        stored = _upload_store(upload)
    try:
        message = _send(
            chat_id=chat_id,
            sender=sender,
            content=content,
            client_id=client_id,
            reply_to_id=reply_to_id,
            stored=stored,
        )
    except (IntegrityError, ValidationError, PermissionDenied):
        _upload_discard(stored)
        repeated = _repeated(chat_id=chat_id, sender=sender, client_id=client_id)
        if repeated is None:
            raise
        return repeated, False
    except BaseException:
        _upload_discard(stored)
        raise
    return message, True


def _send(*, chat_id, sender, content, client_id, reply_to_id, stored) -> Message:
    """The hot path of the service: the locking write of the chat's counters, one read,
    two writes and, unless the sender had read to the end, a log row."""
    with transaction.atomic():
        chat = chat_lock_for_message(chat_id=chat_id, at=timezone.now())
        membership, others = _send_memberships(chat=chat, sender=sender)
        if chat.is_direct and not others:
            raise PermissionDenied("The other person has deleted their account.")
        message = _append(
            chat,
            unhide=any(m.is_hidden for m in [membership, *others]),
            sender=membership.user,
            content=content,
            client_id=client_id,
            reply_to=_reply_target(membership, reply_to_id),
            type=stored.kind.type if stored else Message.Type.TEXT,
        )
        attachment = _attachment_create(message, stored) if stored else None
        # A sender who had read to the end passes only their own message, which receipts
        # never list: no read mark to log.
        had_read_all = membership.last_read_seq >= message.seq - 1
        read_pointer_advance(membership=membership, seq=message.seq, log=not had_read_all)
        publish_message("new_message", _as_loaded(message, attachment))
    return message


def message_post_system(*, chat_id, content: str) -> Message:
    """A notice in the chat's timeline with no sender (members joining and leaving, staff
    broadcasts); announced as `new_message` like any other."""
    content = content_check(content, required=True)
    with transaction.atomic():
        chat = chat_lock_for_message(chat_id=chat_id, at=timezone.now())
        message = _append(
            chat, unhide=chat.is_direct, sender=None, content=content, type=Message.Type.SYSTEM
        )
        publish_message("new_message", _as_loaded(message))
    return message


def _send_memberships(*, chat: Chat, sender: User) -> tuple[Membership, list[Membership]]:
    """The sender's membership and, in a direct chat, the other person's (none when their
    account is gone), in one read, users loaded fresh for the event. Http404 if the sender
    is not a member."""
    memberships = Membership.objects.select_related("user").filter(chat=chat)
    if not chat.is_direct:
        memberships = memberships.filter(user_id=sender.pk)
    memberships = list(memberships)
    mine = next((m for m in memberships if m.user_id == sender.pk), None)
    if mine is None:
        raise Http404
    return mine, [m for m in memberships if m is not mine]


def _repeated(*, chat_id, sender: User, client_id: str | None) -> Message | None:
    """The sender's message with this `client_id` in the chat, if they sent one."""
    if client_id is None:
        return None
    earlier = message_queryset().filter(chat_id=chat_id, sender_id=sender.pk, client_id=client_id)
    return earlier.first()


def _as_loaded(message: Message, attachment: Attachment | None = None) -> Message:
    """A message just inserted, as message_queryset() would load it (sender, reply target and
    attachment set, no reactions yet), without reading it back."""
    Message.attachment.related.set_cached_value(message, attachment)
    message.reaction_list = []
    return message


def _append(chat: Chat, *, unhide: bool, **fields) -> Message:
    """The chat's new message, at the `seq`, `version` and time chat_lock_for_message took
    for it. With `unhide`, a direct chat hidden by a member comes back to them with it."""
    message = Message.objects.create(
        chat=chat,
        seq=chat.last_seq,
        version=chat.version,
        created_at=chat.last_activity_at,
        **fields,
    )
    if unhide:
        chat_unhide_for_members(chat=chat)
    return message


def message_edit(*, message_id, editor: User, content: str) -> Message:
    """Replace the text of the editor's own text message, keeping the old text in its
    history. The same text again changes nothing."""
    content = content_check(content, required=True)
    with transaction.atomic():
        chat, _, message = message_lock(message_id=message_id, user=editor)
        if message.sender_id != editor.pk:
            raise PermissionDenied("Only the sender can edit a message.")
        not_deleted(message)
        if message.type != Message.Type.TEXT:
            raise ValidationError({"content": ["Only text messages can be edited."]})
        if content == message.content:
            return message_load(message_id=message.pk)
        now = timezone.now()
        MessageEdit.objects.create(message=message, content=message.content, edited_at=now)
        message.content, message.edited_at = content, now
        version_take(chat, message)
        message.save(update_fields=["content", "edited_at", "version"])
        message = message_load(message_id=message.pk)
        publish_message("message_updated", message)
    return message


def _client_id_check(client_id) -> None:
    if client_id is None:
        return
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= CLIENT_ID_MAX_LENGTH:
        raise ValidationError({"client_id": [f"1 to {CLIENT_ID_MAX_LENGTH} characters."]})
    if "\x00" in client_id:
        raise ValidationError({"client_id": ["Null characters are not allowed."]})


def _reply_target(membership: Membership, reply_to_id) -> Message | None:
    """A message of the same chat the sender can see (400 otherwise; deleted: 409)."""
    if reply_to_id is None:
        return None
    try:
        target = Message.objects.filter(
            pk=reply_to_id, chat_id=membership.chat_id, seq__gt=membership.cleared_seq
        ).first()
    except (ValueError, TypeError):
        target = None
    if target is None:
        raise ValidationError({"reply_to": ["No such message in this chat."]})
    not_deleted(target)
    return target


def _upload_store(upload) -> StoredUpload:
    kind = upload_inspect(upload)
    name = file_save(upload, folder=ATTACHMENT_FOLDER)
    return StoredUpload(name, upload_name_clean(upload.name), upload.size, kind)


def _upload_discard(stored: StoredUpload | None) -> None:
    if stored is not None:
        file_delete(stored.name)


def _attachment_create(message: Message, stored: StoredUpload) -> Attachment:
    return Attachment.objects.create(
        message=message,
        file=stored.name,
        name=stored.original_name,
        size=stored.size,
        mime_type=stored.kind.mime_type,
        width=stored.kind.width,
        height=stored.kind.height,
    )
