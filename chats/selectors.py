"""Named reads of chats. The `*_for_member` helpers are the only way views, the consumer and
services fetch a chat a user may not see: not a member (or a hidden chat's history that was
cleared) is a 404, never a 403, so ids cannot be probed."""

import uuid
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from functools import cache

from django.core.exceptions import ValidationError
from django.db.models import Count, F, FilteredRelation, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from accounts import presence
from accounts.models import User
from chats.models import Chat, Membership

CHATS_PAGE_DEFAULT = 50
CHATS_PAGE_MAX = 100


def membership_get(*, user, chat_id) -> Membership:
    """The caller's membership of `chat_id`, with the chat loaded; Http404 if there is none."""
    return _membership_of(Membership.objects.select_related("chat"), user=user, chat_id=chat_id)


def membership_shown(*, user, chat_id) -> Membership:
    """membership_get with what the caller's <chat> shows loaded (see `memberships_shown`)."""
    return _membership_of(memberships_shown(), user=user, chat_id=chat_id)


def _membership_of(memberships: QuerySet[Membership], *, user, chat_id) -> Membership:
    try:
        return memberships.get(chat_id=chat_id, user=user)
    except (Membership.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404


def memberships_shown() -> QuerySet[Membership]:
    """Memberships with their chat loaded and, for their <chat>, the chat's `members_count`
    and `last_message_id` (None before the first message), in the same query: a count of
    the chat's memberships and a join of its message at `last_seq`, one index probe per
    chat each.

    Each call copies one queryset built on first use, as DRF's views copy their `queryset`:
    resolving these annotations cost about 1 ms of CPU each time, as much as running the
    page of chats that a socket's `initial_data` reads."""
    return _memberships_shown().all()


@cache
def _memberships_shown() -> QuerySet[Membership]:
    members = Membership.objects.filter(chat_id=OuterRef("chat_id")).order_by().values("chat_id")
    last_message = Q(chat__messages__seq=F("chat__last_seq"))
    return Membership.objects.select_related("chat").annotate(
        members_count=Subquery(members.annotate(count=Count("*")).values("count")),
        newest=FilteredRelation("chat__messages", condition=last_message),
        last_message_id=F("newest__id"),
    )


def contact_ids(*, user_id) -> set[str]:
    """Ids of the other people who share a chat with the user (who hear their presence)."""
    shared = Membership.objects.filter(chat__memberships__user_id=user_id).exclude(user_id=user_id)
    return {str(uid) for uid in shared.values_list("user_id", flat=True).distinct()}


def chat_page_for_user(
    *, user, limit: int = CHATS_PAGE_DEFAULT, before: str | None = None
) -> tuple[list[Membership], str | None]:
    """The user's visible chats (their memberships, with what their <chat> shows), most
    recent activity first, and the cursor of the next page (None on the last).

    Keyset paging on (activity, id): a chat whose activity moves while a client pages is
    not repeated or skipped on later pages; it shows on the next first page.
    """
    memberships = visible_memberships(user=user, memberships=memberships_shown())
    memberships = memberships.order_by("-chat__last_activity_at", "-chat_id")
    if before is not None:
        activity, chat_id = cursor_decode(before)
        memberships = memberships.filter(
            Q(chat__last_activity_at__lt=activity)
            | Q(chat__last_activity_at=activity, chat_id__lt=chat_id)
        )
    page = list(memberships[: limit + 1])
    if len(page) <= limit:
        return page, None
    return page[:limit], cursor_encode(page[limit - 1].chat)


def visible_memberships(
    *, user, memberships: QuerySet[Membership] | None = None
) -> QuerySet[Membership]:
    """The user's memberships of chats they have not hidden, with the chat loaded (or taken
    from `memberships`)."""
    if memberships is None:
        memberships = Membership.objects.select_related("chat")
    return memberships.filter(user=user, is_hidden=False)


def cursor_encode(chat: Chat) -> str:
    raw = f"{chat.last_activity_at.isoformat()}|{chat.pk}"
    return urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (activity, id) a cursor names; a ValidationError on `before` if it names none."""
    try:
        raw = urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        activity, chat_id = raw.split("|")
        moment = datetime.fromisoformat(activity)
        if moment.tzinfo is None:
            raise ValueError(activity)
        return moment, uuid.UUID(chat_id)
    except ValueError:
        raise ValidationError({"before": ["Not a valid cursor."]})


SYNC_FIELDS = ("id", "version", "last_seq", "last_read_seq", "cleared_seq")


def chat_sync_for_user(*, user) -> list[dict]:
    """Counters of every chat the user sees: a chat the client knows that is missing here
    was left, deleted or hidden."""
    rows = visible_memberships(user=user).order_by("chat_id")
    fields = ("chat_id", "chat__version", "chat__last_seq", "last_read_seq", "cleared_seq")
    return [dict(zip(SYNC_FIELDS, row, strict=True)) for row in rows.values_list(*fields)]


def chat_sync_of(memberships: Iterable[Membership]) -> list[dict]:
    """`chat_sync_for_user` from memberships already loaded with their chats, when they are
    all the user's visible ones (a first page that needs no next)."""
    rows = sorted(
        (m.chat_id, m.chat.version, m.chat.last_seq, m.last_read_seq, m.cleared_seq)
        for m in memberships
    )
    return [dict(zip(SYNC_FIELDS, row, strict=True)) for row in rows]


def member_list(*, chat_ids: Iterable) -> list[Membership]:
    """The memberships of the chats, users loaded, earliest-joined first."""
    memberships = Membership.objects.filter(chat_id__in=list(chat_ids)).select_related("user")
    return list(memberships.order_by("joined_at", "id"))


def group_members_for_member(*, user, chat_id) -> list[Membership]:
    """The members of a group the user is in: 404 if they are not, 400 for a direct chat."""
    if membership_get(user=user, chat_id=chat_id).chat.is_direct:
        raise ValidationError("A direct chat has no members to manage.")
    return member_list(chat_ids=[chat_id])


def member_counts(*, chat_ids: Iterable) -> dict[uuid.UUID, int]:
    counts = (
        Membership.objects.filter(chat_id__in=list(chat_ids))
        .order_by()
        .values_list("chat_id")
        .annotate(count=Count("id"))
    )
    return dict(counts)


def direct_partners(*, memberships: Iterable[Membership]) -> dict[int, User | None]:
    """For each membership (by its id) of a direct chat, the other member (None when their
    account is gone), in one query for all of them."""
    direct = [m for m in memberships if m.chat.is_direct]
    if not direct:
        return {}
    users_by_chat = defaultdict(list)
    for member in member_list(chat_ids={m.chat_id for m in direct}):
        users_by_chat[member.chat_id].append(member.user)
    return {
        viewer.pk: next((u for u in users_by_chat[viewer.chat_id] if u.pk != viewer.user_id), None)
        for viewer in direct
    }


def chat_online_members(*, chat_id) -> list[User]:
    """The members of the chat with a socket open now (one presence lookup)."""
    users = [membership.user for membership in member_list(chat_ids=[chat_id])]
    online = presence.online_among([user.pk for user in users])
    return [user for user in users if str(user.pk) in online]
