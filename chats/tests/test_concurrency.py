"""Real concurrency on PostgreSQL: separate connections in threads, committed transactions."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from chats.models import Chat, Membership
from chats.services import direct_chat_get_or_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 10


def in_thread(function, results, key):
    def run():
        try:
            results[key] = function()
        except Exception as error:
            results[key] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def wait_until(condition) -> None:
    """Polls the database (no sleeping) until `condition()` holds, failing after a while."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the other transaction never waited"


def test_concurrent_direct_chat_creation_by_both_users_gives_one_chat(alice, bob):
    """Alice's creation is inserted but not committed when Bob's starts: Bob finds no chat,
    his insert waits on the unique direct_key, and fails once Alice commits; his service
    then answers with her chat."""
    alice_inserted, alice_may_commit = threading.Event(), threading.Event()
    results = {}

    def alice_creates():
        with transaction.atomic():
            created = direct_chat_get_or_create(user=alice, other_user_id=bob.pk)
            alice_inserted.set()
            alice_may_commit.wait(WAIT_SECONDS)
        return created

    alice_thread = in_thread(alice_creates, results, "alice")
    assert alice_inserted.wait(WAIT_SECONDS)
    bob_thread = in_thread(
        lambda: direct_chat_get_or_create(user=bob, other_user_id=alice.pk), results, "bob"
    )
    wait_until(someone_waits_for_a_lock)
    alice_may_commit.set()
    alice_thread.join()
    bob_thread.join()

    (alice_chat, alice_created), (bob_chat, bob_created) = results["alice"], results["bob"]
    assert (alice_created, bob_created) == (True, False)
    assert alice_chat.pk == bob_chat.pk
    assert Chat.objects.count() == 1
    assert Membership.objects.filter(chat=alice_chat).count() == 2


def test_many_simultaneous_creations_of_one_pair_give_one_chat(alice, bob):
    start = threading.Barrier(6)
    results = {}

    def create(user, other):
        start.wait(WAIT_SECONDS)
        return direct_chat_get_or_create(user=user, other_user_id=other.pk)

    threads = [
        in_thread(lambda n=n: create(*((alice, bob) if n % 2 else (bob, alice))), results, n)
        for n in range(6)
    ]
    for thread in threads:
        thread.join()

    assert not [result for result in results.values() if isinstance(result, Exception)]
    assert len({chat.pk for chat, _ in results.values()}) == 1
    assert [created for _, created in results.values()].count(True) == 1
    assert Chat.objects.count() == 1
