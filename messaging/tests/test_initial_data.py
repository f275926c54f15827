"""`initial_data`, a socket's first frame: what it reads, in how many queries."""

from chats.selectors import chat_sync_for_user
from chats.services import chat_mark_read
from messaging.socket_actions import INITIAL_CHATS, initial_data_of
from messaging.tests.factories import group_chat, send


def test_chats_that_fit_the_first_page_give_sync_from_that_page(
    alice, bob, charlie, django_assert_num_queries
):
    chats = [group_chat(bob, alice, charlie, name=f"Team {number}") for number in range(3)]
    for chat in chats:
        send(chat, bob, "hello")
        send(chat, charlie, "hi")
    chat_mark_read(chat_id=chats[1].pk, user=alice, seq=1)
    # The page, its last messages with their reactions, and the contacts.
    with django_assert_num_queries(4):
        data, contacts = initial_data_of(alice)
    assert data["chats_next"] is None
    assert data["sync"] == chat_sync_for_user(user=alice)
    assert [entry["last_read_seq"] for entry in data["sync"] if entry["id"] == chats[1].pk] == [1]
    assert contacts == {str(bob.pk), str(charlie.pk)}


def test_more_chats_than_the_first_page_give_sync_of_every_chat(alice, bob):
    for number in range(INITIAL_CHATS + 1):
        group_chat(alice, bob, name=f"Team {number}")
    data, _ = initial_data_of(alice)
    assert len(data["chats"]) == INITIAL_CHATS and data["chats_next"] is not None
    assert len(data["sync"]) == INITIAL_CHATS + 1
    assert data["sync"] == chat_sync_for_user(user=alice)
