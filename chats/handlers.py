"""Receivers of the accounts signals (connected in ChatsConfig.ready)."""

from django.dispatch import receiver

from accounts.signals import user_deleting
from chats.services import memberships_end_for_user


@receiver(user_deleting, dispatch_uid="chats.end_memberships_of_deleted_user")
def end_memberships_of_deleted_user(sender, *, user, **kwargs):
    memberships_end_for_user(user=user)
