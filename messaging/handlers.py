"""Receivers of the signals sent by accounts and chats services (see their signals.py),
connected in MessagingConfig.ready: system notices in group timelines, and the fan-out of
every chat change to the members' sockets. They run inside the sender's transaction; the
events go out after its commit."""

from django.dispatch import receiver

from accounts.serializers import users_data
from accounts.signals import sessions_ended, user_deleting
from chatproject.files import image_url
from chats import signals
from chats.models import Chat, Membership
from chats.selectors import memberships_shown
from chats.serializers import chats_data
from messaging import realtime
from messaging.events import chat_event
from messaging.services import message_post_system, messages_erase_for_user


def _chats_created_for(memberships: list[Membership]) -> None:
    """Each member's own <chat> (`chat_created`), their sockets joining the chat's group
    first. Memberships come from `_memberships_with_chat`, loaded fresh: the payload shows
    the chat as it is now."""
    for membership, data in zip(memberships, chats_data(memberships), strict=True):
        chat = membership.chat
        payload = chat_event("chat_created", chat_id=chat.pk, version=chat.version, chat=data)
        realtime.publish_chat_joined(membership.user_id, chat.pk, payload)


def _chat_deleted_for(user_id, chat: Chat) -> None:
    payload = chat_event("chat_deleted", chat_id=chat.pk, version=chat.version)
    realtime.publish_chat_left(user_id, chat.pk, payload)


def _memberships_with_chat(chat: Chat, **filters) -> list[Membership]:
    return list(memberships_shown().filter(chat_id=chat.pk, **filters))


@receiver(signals.chat_created, dispatch_uid="messaging.chat_created")
def on_chat_created(sender, *, chat, **kwargs):
    _chats_created_for(_memberships_with_chat(chat))


@receiver(signals.chat_updated, dispatch_uid="messaging.chat_updated")
def on_chat_updated(sender, *, chat, **kwargs):
    payload = chat_event(
        "chat_updated",
        chat_id=chat.pk,
        version=chat.version,
        name=chat.name,
        description=chat.description,
        avatar=image_url(chat.avatar),
        members_count=chat.memberships.count(),
    )
    realtime.publish_to_chat(chat.pk, payload)


@receiver(signals.chat_deleted, dispatch_uid="messaging.chat_deleted")
def on_chat_deleted(sender, *, chat, user_ids, **kwargs):
    for user_id in user_ids:
        _chat_deleted_for(user_id, chat)


@receiver(signals.chat_hidden, dispatch_uid="messaging.chat_hidden")
def on_chat_hidden(sender, *, chat, membership, **kwargs):
    _chat_deleted_for(membership.user_id, chat)


@receiver(signals.chat_unhidden, dispatch_uid="messaging.chat_unhidden")
def on_chat_unhidden(sender, *, chat, membership, **kwargs):
    _chats_created_for(_memberships_with_chat(chat, pk=membership.pk))


@receiver(signals.members_added, dispatch_uid="messaging.members_added")
def on_members_added(sender, *, chat, memberships, actor, **kwargs):
    """`member_added` for each (at the version the change took), then the notice in the
    timeline, then each new member's own <chat>, which already shows that notice."""
    users = users_data(membership.user for membership in memberships)
    for membership, user in zip(memberships, users, strict=True):
        payload = chat_event(
            "member_added", chat_id=chat.pk, version=chat.version, user=user, role=membership.role
        )
        realtime.publish_to_chat(chat.pk, payload)
    names = ", ".join(membership.user.username for membership in memberships)
    notice = f"{actor.username} added {names}" if actor else f"{names} joined"
    message_post_system(chat_id=chat.pk, content=notice)
    added = [membership.pk for membership in memberships]
    _chats_created_for(_memberships_with_chat(chat, pk__in=added))


@receiver(signals.member_removed, dispatch_uid="messaging.member_removed")
def on_member_removed(sender, *, chat, user, actor, **kwargs):
    payload = chat_event("member_removed", chat_id=chat.pk, version=chat.version, user_id=user.pk)
    realtime.publish_to_chat(chat.pk, payload, skip_user_id=user.pk)
    _chat_deleted_for(user.pk, chat)
    if chat.type == Chat.Type.GROUP:
        message_post_system(chat_id=chat.pk, content=_removal_notice(user=user, actor=actor))


def _removal_notice(*, user, actor) -> str:
    if actor is None:
        return f"{user.username} was removed"
    if actor.pk == user.pk:
        return f"{user.username} left"
    return f"{actor.username} removed {user.username}"


@receiver(signals.member_role_changed, dispatch_uid="messaging.member_role_changed")
def on_member_role_changed(sender, *, chat, membership, **kwargs):
    payload = chat_event(
        "member_updated",
        chat_id=chat.pk,
        version=chat.version,
        user_id=membership.user_id,
        role=membership.role,
    )
    realtime.publish_to_chat(chat.pk, payload)


@receiver(signals.read_moved, dispatch_uid="messaging.read_moved")
def on_read_moved(sender, *, chat, membership, **kwargs):
    payload = chat_event(
        "messages_read",
        chat_id=chat.pk,
        version=chat.version,
        user_id=membership.user_id,
        seq=membership.last_read_seq,
    )
    realtime.publish_to_chat(chat.pk, payload)


@receiver(user_deleting, dispatch_uid="messaging.erase_messages_of_deleted_user")
def on_user_deleting(sender, *, user, **kwargs):
    messages_erase_for_user(user=user)


@receiver(sessions_ended, dispatch_uid="messaging.sessions_ended")
def on_sessions_ended(sender, *, user, sids, **kwargs):
    realtime.publish_sessions_ended(user.pk, sids)
