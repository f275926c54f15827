"""What each service announces, as a member's socket would receive it."""

from accounts.services import sessions_end_all, user_delete
from accounts.tests.factories import TEST_PASSWORD
from chatproject.tests.factories import unstamped
from chats.models import Chat
from chats.services import (
    chat_delete,
    chat_leave,
    chat_mark_read,
    chat_update,
    member_remove,
    member_role_set,
    members_add,
)
from messaging.models import Message
from messaging.selectors import message_load
from messaging.serializers import MessageSerializer
from messaging.services import (
    message_delete,
    message_edit,
    message_post_system,
    reaction_add,
    reaction_remove,
)
from messaging.tests.factories import direct_chat, group_chat, send
from messaging.tests.test_commands import png


def test_a_new_message_is_announced_with_the_rest_shape(alice, bob, client_for, events):
    chat = group_chat(alice, bob)
    events.join_chat(chat.pk)
    message = send(chat, alice, "hi")
    (event,) = events.events()
    rest = client_for(bob).get(f"/api/v1/messages/{message.pk}").json()
    assert event == {
        "type": "new_message",
        "chat_id": str(chat.pk),
        "version": message.version,
        "message": rest,
    }


def test_edits_deletions_and_reactions_are_announced_with_consecutive_versions(alice, bob, events):
    chat = group_chat(alice, bob)
    message = send(chat, alice, "hi")
    events.join_chat(chat.pk)
    reaction_add(message_id=message.pk, user=bob, emoji="👍")
    reaction_remove(message_id=message.pk, user=bob, emoji="👍")
    message_edit(message_id=message.pk, editor=alice, content="edited")
    message_delete(message_id=message.pk, actor=alice)
    added, removed, updated, deleted = events.events()
    assert added["type"] == "reaction_added"
    assert added["reactions"] == [{"emoji": "👍", "count": 1, "user_ids": [str(bob.pk)]}]
    assert (added["message_id"], added["user_id"], added["emoji"]) == (
        message.pk,
        str(bob.pk),
        "👍",
    )
    assert removed["type"] == "reaction_removed" and removed["reactions"] == []
    assert updated["type"] == "message_updated"
    assert updated["message"]["content"] == "edited"
    assert deleted["type"] == "message_deleted"
    assert (deleted["message_id"], deleted["seq"]) == (message.pk, message.seq)
    assert deleted["message"] == MessageSerializer(message_load(message_id=message.pk)).data
    assert deleted["message"]["is_deleted"] and deleted["message"]["content"] == ""
    versions = [event["version"] for event in (added, removed, updated, deleted)]
    assert versions == list(range(message.version + 1, message.version + 5))


def test_no_op_changes_announce_nothing(alice, bob, events):
    chat = group_chat(alice, bob)
    message = send(chat, alice, "hi")
    events.join_chat(chat.pk)
    reaction_remove(message_id=message.pk, user=bob, emoji="👍")
    message_edit(message_id=message.pk, editor=alice, content="hi")
    assert events.events() == []


def test_a_new_group_reaches_each_member_as_their_own_chat(alice, bob, events):
    events.join_user(alice.pk)
    events.join_user(bob.pk)
    chat = group_chat(alice, bob)
    joins = events.layer_messages()
    assert [(m["type"], m["chat_id"]) for m in joins] == [("chat.join", str(chat.pk))] * 2
    roles = sorted(_text(m)["chat"]["my_role"] for m in joins)
    assert roles == ["admin", "member"]
    assert all(_text(m)["type"] == "chat_created" for m in joins)


def test_adding_members_announces_them_posts_a_notice_and_sends_their_chat(
    alice, bob, charlie, events
):
    chat = group_chat(alice, bob)
    events.join_chat(chat.pk)
    events.join_user(charlie.pk)
    members_add(chat_id=chat.pk, actor=alice, user_ids=[charlie.pk])
    added, notice, created = events.events()
    assert added["type"] == "member_added" and added["user"]["id"] == str(charlie.pk)
    assert added["role"] == "member" and "email" not in added["user"]
    assert notice["type"] == "new_message"
    assert notice["message"]["type"] == "system" and notice["message"]["sender"] is None
    assert notice["message"]["content"] == "alice added charlie"
    assert notice["version"] == added["version"] + 1
    assert created["type"] == "chat_created"
    assert created["chat"]["last_message"]["id"] == notice["message"]["id"]


def test_removing_a_member_tells_the_others_and_the_removed_one(alice, bob, charlie, events):
    chat = group_chat(alice, bob, charlie)
    events.join_chat(chat.pk)
    events.join_user(charlie.pk)
    member_remove(chat_id=chat.pk, actor=alice, user_id=charlie.pk)
    removed, left, notice = events.layer_messages()
    assert _text(removed)["type"] == "member_removed"
    assert _text(removed)["user_id"] == str(charlie.pk)
    assert removed["skip_user"] == str(charlie.pk)
    assert left["type"] == "chat.leave" and _text(left)["type"] == "chat_deleted"
    assert _text(notice)["message"]["content"] == "alice removed charlie"


def test_leaving_posts_a_notice(alice, bob, events):
    chat = group_chat(alice, bob)
    events.join_chat(chat.pk)
    chat_leave(chat_id=chat.pk, user=bob)
    assert events.events()[-1]["message"]["content"] == "bob left"


def test_direct_chats_get_no_notices(alice, bob):
    chat = direct_chat(alice, bob)
    Chat.objects.get(pk=chat.pk)
    assert not Message.objects.filter(type=Message.Type.SYSTEM).exists()
    group_chat(alice, bob)
    assert not Message.objects.filter(type=Message.Type.SYSTEM).exists()


def test_role_changes_renames_and_reads_are_announced(alice, bob, events):
    chat = group_chat(alice, bob)
    send(chat, alice)
    events.join_chat(chat.pk)
    member_role_set(chat_id=chat.pk, actor=alice, user_id=bob.pk, role="admin")
    chat_update(chat_id=chat.pk, actor=alice, name="Renamed")
    chat_mark_read(chat_id=chat.pk, user=bob, seq=1)
    role, renamed, read = events.events()
    assert role == {
        "type": "member_updated",
        "chat_id": str(chat.pk),
        "version": role["version"],
        "user_id": str(bob.pk),
        "role": "admin",
    }
    assert renamed["type"] == "chat_updated" and renamed["version"] == role["version"] + 1
    assert (renamed["name"], renamed["members_count"], renamed["avatar"]) == ("Renamed", 2, None)
    assert read["type"] == "messages_read"
    assert (read["user_id"], read["seq"]) == (str(bob.pk), 1)


def test_deleting_a_group_tells_every_member(alice, bob, events):
    chat = group_chat(alice, bob)
    events.join_user(alice.pk)
    events.join_user(bob.pk)
    events.layer_messages()
    chat_delete(chat_id=chat.pk, actor=alice)
    leaves = events.layer_messages()
    assert [m["type"] for m in leaves] == ["chat.leave", "chat.leave"]
    assert {_text(m)["type"] for m in leaves} == {"chat_deleted"}


def test_hiding_a_direct_chat_tells_only_that_users_sockets(alice, bob, events):
    chat = direct_chat(alice, bob)
    events.join_user(bob.pk)
    events.layer_messages()
    chat_delete(chat_id=chat.pk, actor=alice)
    assert events.layer_messages() == []
    events.join_user(alice.pk)
    chat_delete(chat_id=chat.pk, actor=alice)
    (left,) = events.layer_messages()
    assert left["type"] == "chat.leave" and _text(left)["chat_id"] == str(chat.pk)


def test_a_deleted_account_leaves_tombstones_without_sender_and_no_reactions(
    alice, bob, charlie, events
):
    chat = group_chat(alice, bob, charlie)
    sent = send(chat, bob, "mine")
    other = send(chat, alice, "yours")
    reaction_add(message_id=other.pk, user=bob, emoji="👍")
    events.join_chat(chat.pk)
    user_delete(user=bob, password=TEST_PASSWORD)
    kinds = events.types()
    assert kinds.count("reaction_removed") == 1 and kinds.count("message_deleted") == 1
    tombstone = Message.objects.get(pk=sent.pk)
    assert tombstone.is_deleted and tombstone.sender is None and tombstone.content == ""
    assert not Message.objects.get(pk=other.pk).reactions.exists()
    assert Message.objects.filter(chat=chat, type="system").count() == 1


def test_ended_sessions_close_the_users_sockets(alice, events):
    from accounts.services import session_start

    session_start(user=alice)
    events.join_user(alice.pk)
    sessions_end_all(user=alice)
    (closing,) = events.layer_messages()
    assert closing["type"] == "sessions.end" and len(closing["sids"]) == 1


def _text(layer_message: dict) -> dict:
    import json

    return json.loads(layer_message["text"])


def test_a_new_message_event_carries_the_message_as_it_reads_back(alice, bob, events):
    chat = group_chat(alice, bob)
    events.join_chat(chat.pk)
    first = send(chat, alice, "first")
    sent = [
        first,
        send(chat, bob, "a reply", reply_to_id=first.pk, client_id="c-2"),
        send(chat, alice, "", upload=png()),
        message_post_system(chat_id=chat.pk, content="A notice"),
    ]
    carried = [event["message"] for event in events.events() if event["type"] == "new_message"]
    read_back = [MessageSerializer(message_load(message_id=m.pk)).data for m in sent]
    assert unstamped(carried) == unstamped(read_back)
