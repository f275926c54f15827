from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Max, Min

from accounts.models import User
from chats.models import Chat, Membership
from messaging.models import Message

pytestmark = pytest.mark.django_db


def seed(**options):
    out = StringIO()
    arguments = {"users": 12, "chats": 10, "messages": 300, "members_per_group": 4}
    call_command("seed_demo", stdout=out, **(arguments | options))
    return out.getvalue()


def test_it_numbers_every_chat_gaplessly_with_version_equal_to_seq():
    seed(big_chat_messages=120)

    assert Message.objects.count() == 300
    assert not Message.objects.exclude(version=F("seq")).exists()
    counted = Chat.objects.annotate(
        n=Count("messages"), lo=Min("messages__seq"), hi=Max("messages__seq")
    )
    for chat in counted:
        assert chat.last_seq == chat.version == chat.n
        if chat.n:
            assert (chat.lo, chat.hi) == (1, chat.n)
            last = chat.messages.order_by("-seq").first()
            assert chat.last_activity_at == last.created_at
    assert Chat.objects.get(name="big").last_seq == 120


def test_read_pointers_never_pass_the_end_and_senders_read_their_last_message():
    seed()

    for membership in Membership.objects.select_related("chat"):
        assert 0 <= membership.last_read_seq <= membership.chat.last_seq
    for chat in Chat.objects.filter(last_seq__gt=0):
        last = chat.messages.get(seq=chat.last_seq)
        assert chat.memberships.get(user_id=last.sender_id).last_read_seq == chat.last_seq


def test_the_api_lists_the_seeded_chats_of_a_user_in_many_chats(client_for):
    output = seed(chat_for_user="busy", user_chats=30)

    busy = User.objects.get(username="busy")
    assert busy.check_password("demo-password-123")
    response = client_for(busy).get("/api/v1/chats?limit=100")

    assert response.status_code == 200
    listed = {chat["id"] for chat in response.json()["results"]}
    assert listed == {str(m.chat_id) for m in Membership.objects.filter(user=busy)}
    assert len(listed) >= 30
    for chat in response.json()["results"]:
        assert 0 <= chat["unread_count"] <= chat["last_seq"]
    assert "done:" in output


def test_every_user_shares_one_password_hash():
    seed()

    assert User.objects.values("password").distinct().count() == 1
