import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from messaging.models import Message, Report
from messaging.services import report_create
from messaging.tests.factories import group_chat, messages, send


@pytest.fixture
def moderator(db, client):
    user = UserFactory(username="mod", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url", ["/admin/messaging/message/", "/admin/messaging/report/", "/admin/messaging/attachment/"]
)
def test_admin_lists_keep_a_constant_number_of_queries(moderator, alice, bob, url):
    chat = group_chat(alice, bob)

    def add(count):
        for message in messages(chat, alice, count):
            report_create(message_id=message.pk, reporter=bob, reason="spam")

    add(2)
    small = queries_for(moderator, url)
    add(15)
    assert queries_for(moderator, url) == small


def test_the_message_admin_searches_and_filters(moderator, alice, bob):
    chat = group_chat(alice, bob)
    send(chat, alice, "needle")
    send(chat, bob, "hay")
    page = moderator.get("/admin/messaging/message/?q=needle&chat__type__exact=group")
    assert b"needle" in page.content and b"hay" not in page.content


def test_deleting_for_everyone_from_the_admin_makes_a_tombstone(moderator, alice, bob, events):
    chat = group_chat(alice, bob)
    message = send(chat, alice, "bad")
    events.join_chat(chat.pk)
    moderator.post(
        "/admin/messaging/message/",
        {"action": "delete_for_everyone", "_selected_action": [message.pk]},
    )
    assert Message.objects.get(pk=message.pk).is_deleted
    assert events.types() == ["message_deleted"]


def test_the_report_queue_shows_open_reports_first(moderator, alice, bob, charlie):
    chat = group_chat(alice, bob, charlie)
    first, second = messages(chat, alice, 2)
    dismissed = report_create(message_id=first.pk, reporter=bob, reason="early")
    report_create(message_id=second.pk, reporter=bob, reason="later")
    moderator.post(
        "/admin/messaging/report/", {"action": "dismiss", "_selected_action": [dismissed.pk]}
    )
    page = moderator.get("/admin/messaging/report/").content.decode()
    assert page.index("later") < page.index("early")
    dismissed.refresh_from_db()
    assert dismissed.status == "dismissed" and dismissed.resolved_by == moderator.user
    assert dismissed.resolved_at is not None


def test_resolving_a_report_by_deleting_the_message_resolves_its_other_reports(
    moderator, alice, bob, charlie
):
    chat = group_chat(alice, bob, charlie)
    message = send(chat, alice, "bad")
    report = report_create(message_id=message.pk, reporter=bob, reason="spam")
    other = report_create(message_id=message.pk, reporter=charlie, reason="rude")
    moderator.post(
        "/admin/messaging/report/", {"action": "delete_message", "_selected_action": [report.pk]}
    )
    assert Message.objects.get(pk=message.pk).is_deleted
    statuses = set(Report.objects.filter(pk__in=[report.pk, other.pk]).values_list("status"))
    assert statuses == {("message_deleted",)}


def test_deactivating_the_sender_from_the_report_queue(moderator, alice, bob):
    chat = group_chat(alice, bob)
    report = report_create(message_id=send(chat, alice).pk, reporter=bob, reason="spam")
    moderator.post(
        "/admin/messaging/report/",
        {"action": "deactivate_sender", "_selected_action": [report.pk]},
    )
    alice.refresh_from_db()
    report.refresh_from_db()
    assert not alice.is_active and report.status == "sender_deactivated"
    assert report.resolved_by == moderator.user


def test_messages_cannot_be_edited_or_deleted_directly_in_the_admin(moderator, alice, bob):
    message = send(group_chat(alice, bob), alice)
    page = moderator.get(f"/admin/messaging/message/{message.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert moderator.get(f"/admin/messaging/message/{message.pk}/delete/").status_code == 403
    assert moderator.get("/admin/messaging/message/add/").status_code == 403
