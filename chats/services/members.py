"""Who is in a group and with which role: adding, promoting, removing, leaving."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chats import signals
from chats.models import Chat, Membership
from chats.services.chats import chat_destroy
from chats.services.common import (
    active_users,
    admins,
    chat_lock,
    check_group_size,
    check_not_last_admin,
    member_of,
    require_group,
    require_group_admin,
)


def members_add(*, chat_id, actor: User | None, user_ids: Iterable) -> list[Membership]:
    """Add people to a group (its admins only); present members are ignored. They start
    with the whole history and their read pointer at the latest message. Returns the new
    memberships."""
    with transaction.atomic():
        chat = chat_lock(chat_id=chat_id, take_version=False)
        require_group_admin(chat=chat, actor=actor)
        present = set(chat.memberships.values_list("user_id", flat=True))
        users = active_users(user_ids, field="user_ids", ignore=present)
        check_group_size(len(present) + len(users))
        if not users:
            return []
        chat = chat_lock(chat_id=chat_id)
        now = timezone.now()
        added = Membership.objects.bulk_create(
            [
                Membership(chat=chat, user=user, joined_at=now, last_read_seq=chat.last_seq)
                for user in users
            ]
        )
        signals.members_added.send(sender=Chat, chat=chat, memberships=added, actor=actor)
    return added


def member_role_set(*, chat_id, actor: User | None, user_id, role: str) -> Membership:
    """Make a member admin or member (a group's admins only); a group keeps an admin."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": [f"Must be one of {', '.join(Membership.Role.values)}."]})
    with transaction.atomic():
        chat = chat_lock(chat_id=chat_id, take_version=False)
        require_group_admin(chat=chat, actor=actor)
        membership = member_of(chat=chat, user_id=user_id)
        if membership.role == role:
            return membership
        check_not_last_admin(chat=chat, membership=membership)
        chat = chat_lock(chat_id=chat_id)
        membership.role = role
        membership.save(update_fields=["role"])
        signals.member_role_changed.send(sender=Chat, chat=chat, membership=membership, actor=actor)
    return membership


def member_remove(*, chat_id, actor: User, user_id) -> None:
    """Take a member out of a group: an admin removes anyone, a member only themselves."""
    with transaction.atomic():
        chat = chat_lock(chat_id=chat_id, take_version=False)
        acting = member_of(chat=chat, user_id=actor.pk)
        require_group(chat)
        if str(user_id) != str(actor.pk) and not acting.is_admin:
            raise PermissionDenied("Only the group's admins can remove others.")
        membership = member_of(chat=chat, user_id=user_id)
        check_not_last_admin(chat=chat, membership=membership)
        _membership_end(chat=chat, membership=membership, actor=actor)


def chat_leave(*, chat_id, user: User) -> None:
    """Leave a group. A last admin leaving hands admin to the earliest-joined member; the
    last member leaving deletes the group."""
    with transaction.atomic():
        chat = chat_lock(chat_id=chat_id, take_version=False)
        membership = member_of(chat=chat, user_id=user.pk)
        require_group(chat)
        _membership_end(chat=chat, membership=membership, actor=user)


def memberships_end_for_user(*, user: User) -> None:
    """End every membership of a user whose account is being deleted.

    A direct chat stays with the other member and is deleted when nobody is left; a group
    left empty is deleted; a group left without an admin gets its earliest-joined member as
    admin. Chats are locked one after another in id order (see `chat_lock`).
    """
    with transaction.atomic():
        chat_ids = user.memberships.order_by("chat_id").values_list("chat_id", flat=True)
        for chat_id in list(chat_ids):
            chat = chat_lock(chat_id=chat_id, take_version=False)
            membership = member_of(chat=chat, user_id=user.pk)
            _membership_end(chat=chat, membership=membership, actor=user)


def _membership_end(*, chat: Chat, membership: Membership, actor: User | None) -> None:
    """Remove the membership of the locked `chat`, keeping the group's invariants."""
    if not chat.memberships.exclude(pk=membership.pk).exists():
        chat_destroy(chat_id=chat.pk, actor=actor)
        return
    chat = chat_lock(chat_id=chat.pk)
    membership.delete()
    signals.member_removed.send(sender=Chat, chat=chat, user=membership.user, actor=actor)
    if chat.type == Chat.Type.GROUP and not admins(chat).exists():
        _promote_earliest_member(chat=chat)


def _promote_earliest_member(*, chat: Chat) -> None:
    successor = chat.memberships.select_related("user").order_by("joined_at", "id").first()
    chat = chat_lock(chat_id=chat.pk)
    successor.role = Membership.Role.ADMIN
    successor.save(update_fields=["role"])
    signals.member_role_changed.send(sender=Chat, chat=chat, membership=successor, actor=None)
