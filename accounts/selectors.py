"""Named reads of users."""

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404

from accounts import presence
from accounts.models import Session, User

SEARCH_MIN_LENGTH = 2


def user_search(*, caller: User, query: str) -> QuerySet[User]:
    """Active users other than the caller whose username or full name contains `query`
    (any case), or whose email is `query`; nothing for a query under two characters."""
    if len(query) < SEARCH_MIN_LENGTH:
        return User.objects.none()
    matches = Q(username__icontains=query) | Q(full_name__icontains=query)
    matches |= Q(email__iexact=query)
    return _listed(User.objects.filter(matches, is_active=True).exclude(pk=caller.pk))


def user_get_active(*, user_id) -> User:
    try:
        return User.objects.get(pk=user_id, is_active=True)
    except (User.DoesNotExist, ValueError):
        raise Http404


def session_is_open(*, sid) -> bool:
    """The login is still on: not ended, and its user still active."""
    return Session.objects.filter(sid=sid, ended_at__isnull=True, user__is_active=True).exists()


def user_list_online_contacts(*, caller: User) -> tuple[QuerySet[User], set[str]]:
    """Online users who share a chat with the caller, and the ids of those online.

    The chats app's memberships are reached through their reverse relation, so accounts
    imports nothing of chats; presence is asked once for all the contacts.
    """
    contact_ids = set(
        User.objects.filter(memberships__chat__memberships__user=caller, is_active=True)
        .exclude(pk=caller.pk)
        .values_list("pk", flat=True)
    )
    online_ids = presence.online_among([str(pk) for pk in contact_ids]) if contact_ids else set()
    return _listed(User.objects.filter(pk__in=online_ids)), online_ids


def _listed(users: QuerySet[User]) -> QuerySet[User]:
    return users.order_by(Lower("username"), "pk")
