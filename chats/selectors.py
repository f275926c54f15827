"""Named reads of chats. The `*_for_member` helpers are the only way views, the consumer and
services fetch a chat a user may not see: not a member (or a hidden chat's history that was
cleared) is a 404, never a 403, so ids cannot be probed."""

from django.http import Http404

from chats.models import Chat, Membership


def membership_get(*, user, chat_id) -> Membership:
    """The caller's membership of `chat_id`, with the chat loaded; Http404 if there is none."""
    try:
        return Membership.objects.select_related("chat").get(chat_id=chat_id, user=user)
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404


def chat_get_for_member(*, user, chat_id) -> Chat:
    return membership_get(user=user, chat_id=chat_id).chat


def contact_ids(*, user_id) -> set[str]:
    """Ids of the other people who share a chat with the user (who hear their presence)."""
    shared = Membership.objects.filter(chat__memberships__user_id=user_id).exclude(user_id=user_id)
    return {str(uid) for uid in shared.values_list("user_id", flat=True).distinct()}
