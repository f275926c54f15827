"""Named reads of messages. Every read is scoped to what the caller may see: a chat they are
not in, and messages at or below their `cleared_seq`, do not exist for them (404)."""

from django.db import connection
from django.db.models import (
    BooleanField,
    F,
    Func,
    Min,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from chats.models import Membership, ReadMark
from chats.selectors import membership_get
from messaging.models import Message, Reaction

HISTORY_MAX_LIMIT = 100
CHANGES_MAX_LIMIT = 500
SEARCH_MAX_LIMIT = 50


def message_queryset() -> QuerySet[Message]:
    """Messages with everything MessageSerializer shows, in a constant number of queries.

    Reactions come as a plain list, `reaction_list`: prefetching into the `reactions`
    manager builds a filtered QuerySet per message (a third of a history page's time)."""
    reactions = Reaction.objects.order_by("created_at", "id")
    return Message.objects.select_related("sender", "attachment", "reply_to").prefetch_related(
        Prefetch("reactions", queryset=reactions, to_attr="reaction_list")
    )


def message_load(*, message_id: int) -> Message:
    return message_queryset().get(pk=message_id)


def message_get_for_member(*, user, message_id: int) -> tuple[Message, Membership]:
    """The message and the caller's membership of its chat; Http404 if they may not see it."""
    message = message_queryset().filter(pk=message_id).first()
    if message is None:
        raise Http404
    membership = membership_get(user=user, chat_id=message.chat_id)
    if message.seq <= membership.cleared_seq:
        raise Http404
    return message, membership


def visible_messages(membership: Membership) -> QuerySet[Message]:
    return message_queryset().filter(chat_id=membership.chat_id, seq__gt=membership.cleared_seq)


def message_history(
    *, membership: Membership, before: int | None = None, after: int | None = None, limit: int
) -> tuple[list[Message], bool]:
    """A page of the timeline in ascending `seq`, by keyset on (chat, seq); and whether there
    is more in the direction asked (older for `before` or neither, newer for `after`)."""
    messages = visible_messages(membership)
    if after is not None:
        page = list(messages.filter(seq__gt=after).order_by("seq")[: limit + 1])
        return page[:limit], len(page) > limit
    if before is not None:
        messages = messages.filter(seq__lt=before)
    page = list(messages.order_by("-seq")[: limit + 1])
    return page[:limit][::-1], len(page) > limit


def message_changes(
    *, membership: Membership, since: int, limit: int
) -> tuple[list[Message], int, bool]:
    """Messages changed after version `since`, in version order, and the version the answer
    is complete up to. The chat's version is read first (it came with the membership), so a
    change committed meanwhile is at worst sent twice, never skipped."""
    changed = visible_messages(membership).filter(version__gt=since).order_by("version")
    page = list(changed[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    return page, page[-1].version if has_more else membership.chat.version, has_more


class SimpleTextMatch(Func):
    """`to_tsvector('simple', content) @@ plainto_tsquery('simple', q)`: exactly the expression
    of the message_content_search index (migrations 0002 and 0003), so it serves the query.
    plainto_tsquery joins the words with AND: every word must match."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        content_sql, content_params = compiler.compile(self.source_expressions[0])
        query_sql, query_params = compiler.compile(self.source_expressions[1])
        sql = f"to_tsvector('simple', {content_sql}) @@ plainto_tsquery('simple', {query_sql})"
        return sql, (*content_params, *query_params)


def message_search(
    *, user, words: str, chat_id=None, before: int | None = None, limit: int
) -> tuple[list[Message], bool]:
    """Messages of the caller's chats matching every one of `words`, newest first.

    PostgreSQL finds a common word's newest matches by walking the messages newest first
    and testing each one. The caller's chat ids, given as a list, are tested on each
    message before its words are (the membership join alone comes after that test), so the
    walk passes other people's messages cheaply: a user's chats are a small share of a
    service's traffic.
    """
    messages = message_queryset().filter(
        chat__memberships__user=user,
        seq__gt=F("chat__memberships__cleared_seq"),
        is_deleted=False,
    )
    if chat_id is not None:
        membership_get(user=user, chat_id=chat_id)
        messages = messages.filter(chat_id=chat_id)
    else:
        chat_ids = Membership.objects.filter(user=user).values_list("chat_id", flat=True)
        messages = messages.filter(chat_id__in=list(chat_ids))
    if before is not None:
        messages = messages.filter(pk__lt=before)
    page = list(_matching(messages, words).order_by("-pk")[: limit + 1])
    return page[:limit], len(page) > limit


def _matching(messages: QuerySet[Message], words: str) -> QuerySet[Message]:
    if connection.vendor == "postgresql":
        return messages.filter(SimpleTextMatch(F("content"), Value(words)))
    for word in words.split():
        messages = messages.filter(content__icontains=word)
    return messages


def message_receipts(*, message: Message) -> list[dict]:
    """Members other than the sender whose read pointer reached the message, with when it
    first did (the earliest read mark at or past it; joining later counts as reading)."""
    first_read = (
        ReadMark.objects.filter(
            chat_id=message.chat_id, user_id=OuterRef("user_id"), seq__gte=message.seq
        )
        .order_by()
        .values("user_id")
        .annotate(first=Min("at"))
        .values("first")
    )
    readers = (
        Membership.objects.filter(chat_id=message.chat_id, last_read_seq__gte=message.seq)
        .exclude(user_id=message.sender_id)
        .annotate(read_at=Coalesce(Subquery(first_read), F("joined_at")))
        .order_by("read_at", "user_id")
    )
    return [{"user_id": m.user_id, "read_at": m.read_at} for m in readers]
