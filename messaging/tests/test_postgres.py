"""Behaviour that needs PostgreSQL: real concurrency on the chat lock, and full-text search."""

import threading

import pytest
from django.db import connection, connections

from accounts.tests.factories import UserFactory
from chats.models import Chat
from messaging.models import Message
from messaging.services import message_delete, message_edit, message_send, reaction_add
from messaging.tests.factories import group_chat, messages, send

pytestmark = pytest.mark.postgres


def run_together(actions) -> list:
    """Run each action in its own thread, all released at once; their results (or errors)."""
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait()
            results[index] = action()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def team(transactional_db):
    users = [UserFactory() for _ in range(5)]
    return group_chat(*users), users


def test_concurrent_sends_take_gapless_seqs(team):
    chat, users = team
    messages(chat, users[0], 3)
    results = run_together(
        [
            lambda n=n: message_send(chat_id=chat.pk, sender=users[n % 5], content=f"m{n}")
            for n in range(30)
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)]
    seqs = sorted(Message.objects.filter(chat=chat).values_list("seq", flat=True))
    assert seqs == list(range(1, 34))
    chat.refresh_from_db()
    assert chat.last_seq == 33


def test_a_client_id_sent_concurrently_creates_one_message(team):
    chat, users = team
    results = run_together(
        [
            lambda: message_send(chat_id=chat.pk, sender=users[0], content="x", client_id="c")
            for _ in range(8)
        ]
    )
    assert [created for _, created in results].count(True) == 1
    assert len({message.pk for message, _ in results}) == 1
    assert Message.objects.filter(chat=chat).count() == 1


def test_concurrent_changes_take_distinct_versions_and_changes_has_each_once(team, client_for):
    chat, users = team
    targets = messages(chat, users[0], 6)
    chat.refresh_from_db()
    since = chat.version
    actions = [
        lambda m=targets[0]: message_edit(message_id=m.pk, editor=users[0], content="e1"),
        lambda m=targets[0]: message_edit(message_id=m.pk, editor=users[0], content="e2"),
        lambda m=targets[1]: message_delete(message_id=m.pk, actor=users[0]),
        lambda m=targets[2]: message_edit(message_id=m.pk, editor=users[0], content="e3"),
    ]
    actions += [
        lambda m=targets[3], u=user: reaction_add(message_id=m.pk, user=u, emoji="👍")
        for user in users
    ]
    results = run_together(actions)
    assert not [r for r in results if isinstance(r, Exception)]
    chat.refresh_from_db()
    assert chat.version == since + len(actions)
    body = client_for(users[1]).get(f"/api/v1/chats/{chat.pk}/changes?since={since}").json()
    changed = body["messages"]
    assert [m["id"] for m in changed] == sorted(
        {targets[0].pk, targets[1].pk, targets[2].pk, targets[3].pk},
        key=lambda pk: next(m["version"] for m in changed if m["id"] == pk),
    )
    assert len(changed) == 4 and body["version"] == chat.version
    by_id = {m["id"]: m for m in changed}
    assert by_id[targets[0].pk]["content"] in {"e1", "e2"}
    assert by_id[targets[1].pk]["is_deleted"] is True
    assert by_id[targets[3].pk]["reactions"][0]["count"] == 5
    versions = [m["version"] for m in changed]
    assert versions == sorted(set(versions))


def test_search_uses_full_text_every_word_must_match(db, client_for):
    alice, bob = UserFactory(), UserFactory()
    chat = group_chat(alice, bob)
    hit = send(chat, alice, "Deployment finished: the Servers are UP")
    send(chat, alice, "servers are down")
    send(chat, alice, "serverside deployment")
    found = client_for(bob).get("/api/v1/messages/search?q=servers deployment").json()
    assert [m["id"] for m in found["results"]] == [hit.pk]
    assert client_for(bob).get("/api/v1/messages/search?q=!!!").json()["results"] == []


def test_a_sent_message_goes_straight_into_the_search_index(db, alice):
    """Nothing waits in GIN's pending list, which the send that fills it would move into the
    index while holding its chat's lock (a quarter of a second; migration 0004)."""
    messages(group_chat(alice), alice, 3)
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list('message_content_search'::regclass)")
        assert cursor.fetchone()[0] == 0


@pytest.fixture
def haystack(alice):
    """A chat of 5,000 messages that all say "filler" and one that says "needle", analyzed."""
    chat = group_chat(alice)
    Message.objects.bulk_create(
        Message(chat=chat, seq=n, version=n, sender=alice, content=f"filler words {n}")
        for n in range(1, 5001)
    )
    Chat.objects.filter(pk=chat.pk).update(last_seq=5000, version=5000)
    send(chat, alice, "needle in the haystack")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE messaging_message")
    return chat


def search_sql(captured) -> str:
    queries = captured.captured_queries
    return next(query["sql"] for query in queries if "to_tsvector" in query["sql"])


def test_search_uses_the_expression_of_the_gin_index(db, alice, haystack):
    """On a table of real size, the planner answers a rare word from the GIN index: the
    selector's expression is the index's."""
    from django.test.utils import CaptureQueriesContext

    from messaging.selectors import message_search

    with CaptureQueriesContext(connection) as captured:
        message_search(user=alice, words="needle", limit=20)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {search_sql(captured)}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "message_content_search" in plan


def message_scan_filters(plan: dict) -> list[str]:
    """The filters of the plan's scans of messaging_message itself (not of reply targets)."""
    found = []
    if plan.get("Relation Name") == "messaging_message" and plan.get("Alias") == plan.get(
        "Relation Name"
    ):
        found.append(plan.get("Filter", "") + plan.get("Recheck Cond", ""))
    for child in plan.get("Plans", []):
        found += message_scan_filters(child)
    return found


def test_a_search_tests_the_callers_chats_before_the_words(db, alice, bob, haystack):
    """A common word's matches are found walking the newest messages; those of chats the
    caller is not in (most of a service's traffic) are passed over on their chat id, without
    the words being tested."""
    from django.test.utils import CaptureQueriesContext

    from messaging.selectors import message_search

    others = group_chat(bob)
    Message.objects.bulk_create(
        Message(chat=others, seq=n, version=n, sender=bob, content=f"filler {n}")
        for n in range(1, 5001)
    )
    with CaptureQueriesContext(connection) as captured:
        found, _ = message_search(user=alice, words="filler", limit=20)
    assert {message.chat_id for message in found} == {haystack.pk}
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {search_sql(captured)}")
        [[plan]] = cursor.fetchall()
    [scan_filter] = message_scan_filters(plan[0]["Plan"])
    assert "chat_id" in scan_filter
    assert scan_filter.index("chat_id") < scan_filter.index("to_tsvector")


def test_the_planner_knows_how_common_a_word_is(db, alice, haystack):
    """It reads the index expression's statistics (a partial index's it ignores): taking
    every word for a rare one, it gathered and sorted all the matches of a common word."""
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (FORMAT JSON) SELECT id FROM messaging_message "
            "WHERE to_tsvector('simple', content) @@ plainto_tsquery('simple', 'filler')"
        )
        [[plan]] = cursor.fetchall()
    assert plan[0]["Plan"]["Plan Rows"] > 2500
