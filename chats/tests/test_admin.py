import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from chats.models import Chat
from messaging.tests.factories import direct_chat, group_chat

CHANGELIST = "/admin/chats/chat/"


@pytest.fixture
def moderator(db, client):
    client.force_login(UserFactory(username="mod", is_staff=True, is_superuser=True))
    return client


def test_the_chat_list_searches_filters_and_counts_members(moderator, alice, bob, charlie):
    group_chat(alice, bob, charlie, name="Climbers")
    group_chat(alice, name="Knitters")
    direct_chat(alice, bob)
    response = moderator.get(CHANGELIST, {"q": "climb", "type__exact": "group"})
    assert response.status_code == 200
    assert b"Climbers" in response.content
    assert b"Knitters" not in response.content
    assert b'<td class="field-members_count">3</td>' in response.content


def test_the_chat_list_keeps_a_constant_number_of_queries(moderator, alice):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert moderator.get(CHANGELIST).status_code == 200
        return len(queries)

    group_chat(alice, UserFactory())
    few = count_queries()
    for _ in range(5):
        group_chat(alice, UserFactory(), UserFactory())
    assert count_queries() == few


def test_a_chat_page_shows_its_members(moderator, alice, bob):
    chat = group_chat(alice, bob)
    response = moderator.get(f"{CHANGELIST}{chat.pk}/change/")
    assert response.status_code == 200
    assert b"bob" in response.content


def test_deleting_for_everyone_goes_through_the_service(moderator, alice, bob, sent_signals):
    chat = group_chat(alice, bob)
    body = {"action": "delete_for_everyone", "_selected_action": [str(chat.pk)]}
    assert moderator.post(CHANGELIST, body).status_code == 302
    assert not Chat.objects.filter(pk=chat.pk).exists()
    deleted = sent_signals.only("chat_deleted")
    assert (deleted["chat"].pk, deleted["actor"]) == (chat.pk, None)


def test_the_membership_list_loads(moderator, alice, bob):
    group_chat(alice, bob)
    response = moderator.get("/admin/chats/membership/", {"q": "bob"})
    assert response.status_code == 200
    assert b"bob" in response.content
