import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from chats.models import Chat, Membership
from chats.services import chat_delete, chat_mark_read
from messaging.models import Message, MessageEdit, Reaction
from messaging.selectors import message_receipts
from messaging.serializers import MessageSerializer
from messaging.services import (
    MessageConflict,
    message_delete,
    message_edit,
    message_post_system,
    message_send,
    reaction_add,
    reaction_remove,
    report_create,
)
from messaging.tests.factories import direct_chat, group_chat, send


def test_sends_take_consecutive_seqs_and_versions(alice, bob):
    chat = group_chat(alice, bob)
    first, second = send(chat, alice, "one"), send(chat, bob, "two")
    chat.refresh_from_db()
    assert (first.seq, second.seq) == (1, 2)
    assert second.version == first.version + 1 == chat.version
    assert chat.last_seq == 2
    assert chat.last_activity_at == second.created_at


def test_sending_moves_the_senders_read_pointer(alice, bob):
    chat = group_chat(alice, bob)
    send(chat, alice)
    message = send(chat, alice)
    assert Membership.objects.get(chat=chat, user=alice).last_read_seq == message.seq
    assert Membership.objects.get(chat=chat, user=bob).last_read_seq == 0


def test_a_repeated_client_id_returns_the_first_message_and_creates_nothing(alice, bob):
    chat = group_chat(alice, bob)
    first, created = message_send(chat_id=chat.pk, sender=alice, content="a", client_id="c1")
    again, created_again = message_send(chat_id=chat.pk, sender=alice, content="b", client_id="c1")
    assert created and not created_again
    assert again.pk == first.pk and again.content == "a"
    assert Message.objects.filter(chat=chat).count() == 1


def test_a_repeat_whose_reply_target_was_deleted_since_still_gets_the_first_message(alice, bob):
    chat = group_chat(alice, bob)
    target = send(chat, bob)
    first = send(chat, alice, "re", client_id="c1", reply_to_id=target.pk)
    message_delete(message_id=target.pk, actor=bob)
    again, created = message_send(
        chat_id=chat.pk, sender=alice, content="re", client_id="c1", reply_to_id=target.pk
    )
    assert (again.pk, created) == (first.pk, False)


def test_the_same_client_id_from_another_sender_is_another_message(alice, bob):
    chat = group_chat(alice, bob)
    message_send(chat_id=chat.pk, sender=alice, content="a", client_id="c1")
    _, created = message_send(chat_id=chat.pk, sender=bob, content="b", client_id="c1")
    assert created


@pytest.mark.parametrize("content", ["", "   \n\t", "x" * 10_001, "a\x00b", "a\ud800b", 42])
def test_invalid_text_is_refused(alice, bob, content):
    chat = group_chat(alice, bob)
    with pytest.raises(ValidationError):
        send(chat, alice, content)


def test_text_is_stored_as_sent(alice, bob):
    chat = group_chat(alice, bob)
    text = "  spaced 😀 " + "é" * 9_989
    assert len(text) == 10_000
    assert send(chat, alice, text).content == text


def test_a_non_member_cannot_send(alice, bob, charlie):
    chat = group_chat(alice, bob)
    with pytest.raises(Http404):
        send(chat, charlie)


def test_a_refused_send_moves_no_counter_of_the_chat(alice, bob, charlie):
    """The send takes `seq` and `version` before its checks; a refusal must give them back."""
    chat, other = group_chat(alice, bob), group_chat(alice)
    send(chat, alice, "before")
    elsewhere = send(other, alice)
    chat.refresh_from_db()
    counters = (chat.last_seq, chat.version, chat.last_activity_at)
    with pytest.raises(Http404):
        send(chat, charlie)
    with pytest.raises(ValidationError):
        send(chat, alice, reply_to_id=elsewhere.pk)
    chat.refresh_from_db()
    assert (chat.last_seq, chat.version, chat.last_activity_at) == counters
    assert send(chat, bob).seq == counters[0] + 1


@pytest.mark.parametrize("chat_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_a_send_to_no_chat_is_not_found(alice, chat_id):
    with pytest.raises(Http404):
        message_send(chat_id=chat_id, sender=alice, content="hi")


def test_reply_to_a_message_of_another_chat_is_refused(alice, bob):
    chat, other = group_chat(alice, bob), group_chat(alice)
    elsewhere = send(other, alice)
    with pytest.raises(ValidationError) as error:
        send(chat, alice, reply_to_id=elsewhere.pk)
    assert not isinstance(error.value, MessageConflict)


def test_reply_to_a_deleted_message_is_a_conflict(alice, bob):
    chat = group_chat(alice, bob)
    target = send(chat, bob)
    message_delete(message_id=target.pk, actor=bob)
    with pytest.raises(MessageConflict):
        send(chat, alice, reply_to_id=target.pk)


def test_reply_to_a_cleared_message_is_refused(alice, bob):
    chat = direct_chat(alice, bob)
    target = send(chat, bob)
    chat_delete(chat_id=chat.pk, actor=alice)
    with pytest.raises(ValidationError):
        send(chat, alice, reply_to_id=target.pk)


def test_a_reply_shows_a_preview_of_its_target(alice, bob):
    chat = group_chat(alice, bob)
    target = send(chat, bob, "x" * 300)
    reply = MessageSerializer(send(chat, alice, "re", reply_to_id=target.pk)).data["reply_to"]
    assert reply["id"] == target.pk and reply["sender_id"] == str(bob.pk)
    assert len(reply["content"]) == 200 and reply["is_deleted"] is False


def test_sending_to_a_direct_chat_whose_other_member_is_gone_is_forbidden(alice, bob):
    chat = direct_chat(alice, bob)
    Membership.objects.filter(chat=chat, user=bob).delete()
    with pytest.raises(PermissionDenied):
        send(chat, alice)


def test_a_new_message_brings_a_hidden_direct_chat_back(alice, bob, events):
    chat = direct_chat(alice, bob)
    send(chat, alice, "old")
    chat_delete(chat_id=chat.pk, actor=bob)
    events.join_user(bob.pk)
    events.events()
    message = send(chat, alice, "new")
    membership = Membership.objects.get(chat=chat, user=bob)
    assert not membership.is_hidden and membership.cleared_seq == 1
    (event,) = events.events()
    assert event["type"] == "chat_created"
    assert event["chat"]["last_message"]["id"] == message.pk
    assert event["chat"]["unread_count"] == 1


def test_a_staff_notice_also_brings_a_hidden_direct_chat_back(alice, bob):
    chat = direct_chat(alice, bob)
    chat_delete(chat_id=chat.pk, actor=bob)
    message_post_system(chat_id=chat.pk, content="Maintenance tonight")
    assert not Membership.objects.get(chat=chat, user=bob).is_hidden


def test_only_the_sender_edits_and_the_old_text_is_kept(alice, bob):
    chat = group_chat(alice, bob)
    message = send(chat, alice, "first")
    with pytest.raises(PermissionDenied):
        message_edit(message_id=message.pk, editor=bob, content="hacked")
    edited = message_edit(message_id=message.pk, editor=alice, content="second")
    assert edited.content == "second" and edited.edited_at is not None
    assert edited.version > message.version
    assert list(MessageEdit.objects.values_list("content", flat=True)) == ["first"]


def test_editing_to_the_same_text_changes_nothing(alice, bob):
    chat = group_chat(alice, bob)
    message = send(chat, alice, "same")
    assert message_edit(message_id=message.pk, editor=alice, content="same").version == (
        message.version
    )


def test_editing_a_deleted_message_is_a_conflict(alice, bob):
    chat = group_chat(alice, bob)
    message = send(chat, alice)
    message_delete(message_id=message.pk, actor=alice)
    with pytest.raises(MessageConflict):
        message_edit(message_id=message.pk, editor=alice, content="again")


def test_delete_erases_content_history_and_reactions(alice, bob):
    chat = group_chat(alice, bob)
    message = send(chat, alice, "secret")
    message_edit(message_id=message.pk, editor=alice, content="secret 2")
    reaction_add(message_id=message.pk, user=bob, emoji="👍")
    message_delete(message_id=message.pk, actor=alice)
    message.refresh_from_db()
    assert message.is_deleted and message.content == "" and message.seq == 1
    assert not MessageEdit.objects.exists() and not Reaction.objects.exists()


def test_a_group_admin_may_delete_anyones_message_a_member_may_not(alice, bob, charlie):
    chat = group_chat(alice, bob, charlie)
    message = send(chat, bob)
    with pytest.raises(PermissionDenied):
        message_delete(message_id=message.pk, actor=charlie)
    message_delete(message_id=message.pk, actor=alice)
    assert Message.objects.get(pk=message.pk).is_deleted


def test_in_a_direct_chat_only_the_sender_deletes(alice, bob):
    chat = direct_chat(alice, bob)
    message = send(chat, bob)
    with pytest.raises(PermissionDenied):
        message_delete(message_id=message.pk, actor=alice)


def test_reactions_are_idempotent_and_removing_an_absent_one_is_a_no_op(alice, bob):
    chat = group_chat(alice, bob)
    message = send(chat, alice)
    first = reaction_add(message_id=message.pk, user=bob, emoji="👍")
    again = reaction_add(message_id=message.pk, user=bob, emoji="👍")
    assert again.version == first.version and Reaction.objects.count() == 1
    unchanged = reaction_remove(message_id=message.pk, user=bob, emoji="🎉")
    assert unchanged.version == first.version
    removed = reaction_remove(message_id=message.pk, user=bob, emoji="👍")
    assert removed.version > first.version and not Reaction.objects.exists()


def test_a_message_holds_at_most_twenty_distinct_emoji(alice, bob):
    chat = group_chat(alice, bob)
    message = send(chat, alice)
    emoji = [chr(0x1F600 + n) for n in range(21)]
    for each in emoji[:20]:
        reaction_add(message_id=message.pk, user=alice, emoji=each)
    reaction_add(message_id=message.pk, user=bob, emoji=emoji[0])  # an existing one is fine
    with pytest.raises(ValidationError):
        reaction_add(message_id=message.pk, user=bob, emoji=emoji[20])


@pytest.mark.parametrize("emoji", ["", "x" * 33, "👍 ", "a\nb", "\x07", "\ud83d"])
def test_invalid_emoji_are_refused(alice, bob, emoji):
    message = send(group_chat(alice, bob), alice)
    with pytest.raises(ValidationError):
        reaction_add(message_id=message.pk, user=bob, emoji=emoji)


def test_an_emoji_sequence_with_joiners_is_one_reaction(alice, bob):
    message = send(group_chat(alice, bob), alice)
    family = "👨\u200d👩\u200d👧"
    reaction_add(message_id=message.pk, user=bob, emoji=family)
    assert Reaction.objects.get().emoji == family


def test_reacting_to_a_deleted_message_is_a_conflict(alice, bob):
    chat = group_chat(alice, bob)
    message = send(chat, alice)
    message_delete(message_id=message.pk, actor=alice)
    with pytest.raises(MessageConflict):
        reaction_add(message_id=message.pk, user=bob, emoji="👍")


def test_a_second_report_by_the_same_member_is_a_conflict(alice, bob):
    message = send(group_chat(alice, bob), alice)
    report_create(message_id=message.pk, reporter=bob, reason="spam")
    with pytest.raises(MessageConflict):
        report_create(message_id=message.pk, reporter=bob, reason="spam again")


def test_cleared_messages_do_not_exist_for_the_member_who_cleared_them(alice, bob):
    chat = direct_chat(alice, bob)
    message = send(chat, bob)
    chat_delete(chat_id=chat.pk, actor=alice)
    with pytest.raises(Http404):
        reaction_add(message_id=message.pk, user=alice, emoji="👍")
    reaction_add(message_id=message.pk, user=bob, emoji="👍")


def test_every_change_takes_the_next_version_of_the_chat(alice, bob):
    chat = group_chat(alice, bob)
    start = Chat.objects.get().version
    message = send(chat, alice)
    versions = [message.version]
    versions.append(reaction_add(message_id=message.pk, user=bob, emoji="👍").version)
    versions.append(message_edit(message_id=message.pk, editor=alice, content="new").version)
    message_delete(message_id=message.pk, actor=alice)
    versions.append(Message.objects.get().version)
    assert versions == [start + 1, start + 2, start + 3, start + 4]
    assert Chat.objects.get().version == start + 4


def test_a_read_pointer_moved_by_sending_is_not_announced(alice, bob, events):
    chat = group_chat(alice, bob)
    events.join_chat(chat.pk)
    send(chat, alice)
    assert events.types() == ["new_message"]
    chat_mark_read(chat_id=chat.pk, user=bob, seq=1)
    assert events.types() == ["messages_read"]


@pytest.mark.parametrize("make_chat", [group_chat, direct_chat])
def test_a_send_is_a_locking_update_a_read_and_three_writes(
    alice, bob, django_assert_num_queries, make_chat
):
    chat = make_chat(alice, bob)
    send(chat, alice, "warm up")
    send(chat, bob, "unread by alice")
    with django_assert_num_queries(5 + 2):  # + SAVEPOINT/RELEASE inside the test's transaction
        send(chat, alice, "hello", client_id="c-3")


def test_a_sender_who_had_read_everything_logs_no_read_mark(alice, bob, django_assert_num_queries):
    chat = group_chat(alice, bob)
    first = send(chat, bob, "hi")
    chat_mark_read(chat_id=chat.pk, user=alice, seq=first.seq)
    [read_at] = [r["read_at"] for r in message_receipts(message=first)]
    with django_assert_num_queries(4 + 2):
        send(chat, alice, "hello")
    reply = send(chat, bob, "and you?")
    send(chat, alice, "fine")  # passes bob's reply: logged
    assert [r["read_at"] for r in message_receipts(message=first)] == [read_at]
    [receipt] = message_receipts(message=reply)
    assert receipt["user_id"] == alice.pk and receipt["read_at"] > read_at
