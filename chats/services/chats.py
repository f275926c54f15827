"""Creating, changing, hiding and deleting chats."""

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from chatproject.files import file_check_size, file_delete, file_save, image_probe
from chatproject.text import validate_text
from chats import signals
from chats.models import Chat, Membership
from chats.selectors import membership_get
from chats.services.common import (
    active_users,
    chat_lock,
    check_group_size,
    member_of,
    require_group_admin,
)

NAME_MAX_LENGTH = Chat._meta.get_field("name").max_length
DESCRIPTION_MAX_LENGTH = Chat._meta.get_field("description").max_length
AVATAR_FOLDER = "chat-avatars"


def direct_chat_get_or_create(*, user: User, other_user_id) -> tuple[Chat, bool]:
    """The direct chat of the two users, created if there is none (then True).

    One per pair, enforced by the unique `direct_key`: of two concurrent creations one
    inserts, the other gets an IntegrityError and returns that chat. An existing chat the
    user had hidden comes back, its cleared history still cleared.
    """
    other = _direct_partner(user=user, other_user_id=other_user_id)
    key = Chat.direct_key_for(user.pk, other.pk)
    with transaction.atomic():
        chat = Chat.objects.filter(direct_key=key).first()
        if chat is None:
            try:
                with transaction.atomic():
                    chat = _direct_chat_create(key=key, users=[user, other])
            except IntegrityError:
                chat = Chat.objects.get(direct_key=key)
            else:
                signals.chat_created.send(sender=Chat, chat=chat, actor=user)
                return chat, True
        _unhide(chat=chat, memberships=chat.memberships.filter(user=user, is_hidden=True))
    return chat, False


def _direct_partner(*, user: User, other_user_id) -> User:
    other = active_users([other_user_id], field="user_id")[0]
    if other.pk == user.pk:
        raise ValidationError({"user_id": ["A direct chat needs another person."]})
    return other


def _direct_chat_create(*, key: str, users: list[User]) -> Chat:
    now = timezone.now()
    chat = Chat.objects.create(
        type=Chat.Type.DIRECT,
        direct_key=key,
        created_by=users[0],
        created_at=now,
        last_activity_at=now,
    )
    Membership.objects.bulk_create(
        [Membership(chat=chat, user=user, joined_at=now) for user in users]
    )
    return chat


def group_create(*, creator: User, name: str, member_ids: Iterable, description: str = "") -> Chat:
    """A group with its creator as admin. `member_ids` may include the creator."""
    name = _group_name(name)
    description = _description(description)
    others = active_users(member_ids, field="member_ids", ignore={creator.pk})
    check_group_size(1 + len(others))
    now = timezone.now()
    with transaction.atomic():
        chat = Chat.objects.create(
            type=Chat.Type.GROUP,
            name=name,
            description=description,
            created_by=creator,
            created_at=now,
            last_activity_at=now,
        )
        creator_membership = Membership(
            chat=chat, user=creator, role=Membership.Role.ADMIN, joined_at=now
        )
        Membership.objects.bulk_create(
            [creator_membership] + [Membership(chat=chat, user=u, joined_at=now) for u in others]
        )
        signals.chat_created.send(sender=Chat, chat=chat, actor=creator)
    return chat


# --- The chat itself ------------------------------------------------------------------------


def chat_update(
    *,
    chat_id,
    actor: User | None,
    name: str | None = None,
    description: str | None = None,
) -> Chat:
    """Rename a group or change its description (its admins only). What it has already
    changes nothing: no version is taken and nothing is announced."""
    with transaction.atomic():
        chat = chat_lock(chat_id=chat_id, take_version=False)
        require_group_admin(chat=chat, actor=actor)
        name = chat.name if name is None else _group_name(name)
        description = chat.description if description is None else _description(description)
        if (name, description) == (chat.name, chat.description):
            return chat
        chat = chat_lock(chat_id=chat_id)
        chat.name, chat.description = name, description
        chat.save(update_fields=["name", "description"])
        signals.chat_updated.send(sender=Chat, chat=chat, actor=actor)
    return chat


def chat_avatar_set(*, chat_id, actor: User | None, image) -> Chat:
    """Make `image` (a JPEG/PNG/WebP/GIF of at most MAX_AVATAR_BYTES) the group's avatar.

    Access is checked before the upload is looked at (so a non-member gets 404 whatever
    they send), and again under the chat's lock; the file is written outside the lock.
    """
    if actor is not None:
        require_group_admin(chat=membership_get(user=actor, chat_id=chat_id).chat, actor=actor)
    file_check_size(image, max_bytes=settings.MAX_AVATAR_BYTES)
    info = image_probe(image)
    if info is None:
        raise ValidationError({"avatar": ["Upload a JPEG, PNG, WebP or GIF image."]})
    stored = file_save(image, folder=AVATAR_FOLDER, extension=info.extension)
    try:
        return _chat_avatar_replace(chat_id=chat_id, actor=actor, avatar=stored)
    except BaseException:
        file_delete(stored)
        raise


def chat_avatar_delete(*, chat_id, actor: User | None) -> Chat:
    return _chat_avatar_replace(chat_id=chat_id, actor=actor, avatar="")


def _chat_avatar_replace(*, chat_id, actor: User | None, avatar: str) -> Chat:
    with transaction.atomic():
        chat = chat_lock(chat_id=chat_id)
        require_group_admin(chat=chat, actor=actor)
        _delete_file_on_commit(chat.avatar)
        chat.avatar = avatar
        chat.save(update_fields=["avatar"])
        signals.chat_updated.send(sender=Chat, chat=chat, actor=actor)
    return chat


def chat_delete(*, chat_id, actor: User) -> None:
    """A direct chat: hidden and cleared for the actor only. A group: deleted for everyone
    by one of its admins."""
    with transaction.atomic():
        chat = chat_lock(chat_id=chat_id, take_version=False)
        membership = member_of(chat=chat, user_id=actor.pk)
        if chat.is_direct:
            _hide(chat=chat, membership=membership)
            return
        if not membership.is_admin:
            raise PermissionDenied("Only the group's admins can delete it.")
        chat_destroy(chat_id=chat.pk, actor=actor)


def chat_destroy(*, chat_id, actor: User | None = None) -> None:
    """Delete the chat for everyone, with its messages (no permission check: callers do it)."""
    with transaction.atomic():
        chat = chat_lock(chat_id=chat_id)
        user_ids = list(chat.memberships.values_list("user_id", flat=True))
        _delete_file_on_commit(chat.avatar)
        # A queryset delete keeps `chat.pk` for the receivers.
        Chat.objects.filter(pk=chat.pk).delete()
        signals.chat_deleted.send(sender=Chat, chat=chat, user_ids=user_ids, actor=actor)


def _hide(*, chat: Chat, membership: Membership) -> None:
    membership.is_hidden = True
    membership.cleared_seq = chat.last_seq
    membership.save(update_fields=["is_hidden", "cleared_seq"])
    signals.chat_hidden.send(sender=Chat, chat=chat, membership=membership)


def chat_unhide_for_members(*, chat: Chat) -> list[Membership]:
    """Bring the chat back for every member who had hidden it, without the history they
    cleared (a new message does this; call it under the chat's lock)."""
    return _unhide(chat=chat, memberships=chat.memberships.filter(is_hidden=True))


def _unhide(*, chat: Chat, memberships) -> list[Membership]:
    hidden = list(memberships.select_related("user"))
    for membership in hidden:
        membership.is_hidden = False
        membership.save(update_fields=["is_hidden"])
        signals.chat_unhidden.send(sender=Chat, chat=chat, membership=membership)
    return hidden


def _group_name(name: str) -> str:
    return _checked_text(name.strip(), field="name", min_length=1, max_length=NAME_MAX_LENGTH)


def _description(description: str) -> str:
    return _checked_text(description, field="description", max_length=DESCRIPTION_MAX_LENGTH)


def _checked_text(value: str, *, field: str, max_length: int, min_length: int = 0) -> str:
    try:
        validate_text(value)
    except ValidationError as error:
        raise ValidationError({field: error.messages})
    if not min_length <= len(value) <= max_length:
        raise ValidationError({field: [f"{min_length} to {max_length} characters."]})
    return value


def _delete_file_on_commit(name: str) -> None:
    if name:
        transaction.on_commit(lambda: file_delete(name), robust=True)
