"""What every chats service shares: the chat lock, access checks, user lookups."""

import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404

from accounts.models import User
from chats.models import Chat, Membership


def chat_lock(*, chat_id, take_version: bool = True) -> Chat:
    """The chat row, read fresh and locked (SELECT ... FOR UPDATE) until the transaction ends,
    with its next `version` taken unless `take_version` is False. Http404 if there is none.

    Lock order, in every service: the chat row first, then its memberships and messages;
    several chats in ascending id order. `seq` and `version` only move under this row lock
    (here, or in chat_lock_for_message's UPDATE, which takes the same lock). The row is
    re-read on every call, so a second call in one transaction (after a handler posted a
    system message) continues from the counters as they are now.
    """
    try:
        chat = Chat.objects.select_for_update().get(pk=chat_id)
    except (Chat.DoesNotExist, ValueError, ValidationError):
        raise Http404
    if take_version:
        chat.version += 1
        chat.save(update_fields=["version"])
    return chat


def chat_lock_for_message(*, chat_id, at) -> Chat:
    """`chat_lock` for a new message, in one statement instead of a locking read and a later
    write: the row is locked with `last_seq` and `version` already moved on to the new
    message's and `last_activity_at` set to `at` (the ORM's update() returns no row, hence
    UPDATE ... RETURNING by hand). A check that fails after it rolls the transaction back,
    counters included. Http404 if there is no such chat."""
    meta = Chat._meta
    try:
        chat_id = meta.pk.get_db_prep_value(meta.pk.to_python(chat_id), connection)
    except ValidationError:
        raise Http404
    at = meta.get_field("last_activity_at").get_db_prep_value(at, connection)
    columns = ", ".join(field.column for field in meta.concrete_fields)
    sql = (  # names from the model, values as parameters
        f"UPDATE {meta.db_table} SET last_seq = last_seq + 1, version = version + 1, "  # noqa: S608
        f"last_activity_at = %s WHERE id = %s RETURNING {columns}"
    )
    chat = next(iter(Chat.objects.raw(sql, [at, chat_id])), None)
    if chat is None:
        raise Http404
    return chat


def member_of(*, chat: Chat, user_id) -> Membership:
    try:
        return Membership.objects.select_related("user").get(chat=chat, user_id=user_id)
    except (Membership.DoesNotExist, ValueError, ValidationError):
        raise Http404


def require_group(chat: Chat) -> None:
    if chat.is_direct:
        raise ValidationError("A direct chat has no settings or members to manage.")


def require_group_admin(*, chat: Chat, actor: User | None) -> None:
    """404 for a non-member, 400 for a direct chat, 403 for a member who is not an admin."""
    membership = None if actor is None else member_of(chat=chat, user_id=actor.pk)
    require_group(chat)
    if membership is not None and not membership.is_admin:
        raise PermissionDenied("Only the group's admins can do this.")


def admins(chat: Chat):
    return chat.memberships.filter(role=Membership.Role.ADMIN)


def check_not_last_admin(*, chat: Chat, membership: Membership) -> None:
    if membership.is_admin and not admins(chat).exclude(pk=membership.pk).exists():
        raise ValidationError("A group needs an admin: make someone else admin first.")


def check_group_size(count: int) -> None:
    if count > settings.GROUP_MAX_MEMBERS:
        raise ValidationError(f"A group has at most {settings.GROUP_MAX_MEMBERS} members.")


def active_users(user_ids: Iterable, *, field: str, ignore: Iterable = ()) -> list[User]:
    """The active users of `user_ids` (but those in `ignore`) in the order given; 400 for an
    unknown, inactive or repeated id."""
    try:
        ids = [uuid.UUID(str(user_id)) for user_id in user_ids]
    except ValueError:
        raise ValidationError({field: ["Not a valid user id."]})
    if len(set(ids)) != len(ids):
        raise ValidationError({field: ["A user id appears more than once."]})
    ignored = set(ignore)
    wanted = [user_id for user_id in ids if user_id not in ignored]
    users = User.objects.filter(is_active=True).in_bulk(wanted)
    if len(users) != len(wanted):
        raise ValidationError({field: ["Unknown or inactive user."]})
    return [users[user_id] for user_id in wanted]
