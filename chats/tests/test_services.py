import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404

from accounts.services import user_delete
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from chats.models import Chat, Membership, ReadMark
from chats.services import (
    chat_delete,
    chat_leave,
    chat_lock,
    chat_mark_read,
    chat_unhide_for_members,
    chat_update,
    direct_chat_get_or_create,
    group_create,
    members_add,
)
from messaging.tests.factories import direct_chat, group_chat, send


def role_of(chat, user) -> str:
    return Membership.objects.get(chat=chat, user=user).role


class TestChatLock:
    def test_it_takes_the_next_version_unless_told_not_to(self, alice):
        chat = group_chat(alice)
        with transaction.atomic():
            assert chat_lock(chat_id=chat.pk).version == chat.version + 1
            assert chat_lock(chat_id=chat.pk).version == chat.version + 2
            assert chat_lock(chat_id=chat.pk, take_version=False).version == chat.version + 2

    def test_an_unknown_chat_is_404(self, db):
        with transaction.atomic(), pytest.raises(Http404):
            chat_lock(chat_id="not-a-uuid")


class TestCreation:
    def test_a_group_is_announced_once_with_its_creator(self, alice, bob, sent_signals):
        chat = group_create(creator=alice, name="Team", member_ids=[bob.pk, alice.pk])
        assert sent_signals.names() == ["chat_created"]
        assert sent_signals.only("chat_created")["actor"] == alice
        assert {m.user: m.role for m in chat.memberships.all()} == {
            alice: "admin",
            bob: "member",
        }

    def test_a_direct_chat_is_announced_when_created_only(self, alice, bob, sent_signals):
        chat, created = direct_chat_get_or_create(user=alice, other_user_id=bob.pk)
        again, created_again = direct_chat_get_or_create(user=bob, other_user_id=alice.pk)
        assert (created, created_again, again) == (True, False, chat)
        assert sent_signals.names() == ["chat_created"]
        assert set(chat.memberships.values_list("role", flat=True)) == {"member"}

    def test_opening_a_chat_one_had_hidden_announces_it_back_to_them_only(
        self, alice, bob, sent_signals
    ):
        chat = direct_chat(alice, bob)
        chat_delete(chat_id=chat.pk, actor=alice)
        direct_chat_get_or_create(user=alice, other_user_id=bob.pk)
        direct_chat_get_or_create(user=bob, other_user_id=alice.pk)
        assert sent_signals.names() == ["chat_created", "chat_hidden", "chat_unhidden"]
        assert sent_signals.only("chat_unhidden")["membership"].user == alice

    def test_group_members_start_with_nothing_unread(self, alice, bob):
        chat = group_chat(alice, bob)
        assert set(chat.memberships.values_list("last_read_seq", flat=True)) == {0}


class TestChanges:
    def test_each_change_to_the_chat_takes_the_next_version(self, alice, bob, sent_signals):
        chat = group_chat(alice)
        chat_update(chat_id=chat.pk, actor=alice, name="One")
        members_add(chat_id=chat.pk, actor=alice, user_ids=[bob.pk])
        versions = [arguments["version"] for _, arguments in sent_signals]
        assert sent_signals.names() == ["chat_created", "chat_updated", "members_added"]
        assert versions == [chat.version, chat.version + 1, chat.version + 2]

    def test_a_moderator_acts_without_being_a_member(self, alice, sent_signals):
        chat = group_chat(alice)
        chat_update(chat_id=chat.pk, actor=None, description="Moderated")
        assert Chat.objects.get(pk=chat.pk).description == "Moderated"
        assert sent_signals.only("chat_updated")["actor"] is None

    def test_a_refused_change_takes_no_version(self, alice, bob):
        chat = group_chat(alice, bob)
        with pytest.raises(PermissionDenied):
            chat_update(chat_id=chat.pk, actor=bob, name="Mine")
        with pytest.raises(ValidationError):
            chat_update(chat_id=chat.pk, actor=alice, name="")
        assert Chat.objects.get(pk=chat.pk).version == chat.version


class TestHiding:
    def test_a_new_message_brings_a_hidden_chat_back_for_everyone_who_hid_it(
        self, alice, bob, sent_signals
    ):
        chat = direct_chat(alice, bob)
        send(chat, alice, "one")
        chat_delete(chat_id=chat.pk, actor=alice)
        chat_delete(chat_id=chat.pk, actor=bob)

        with transaction.atomic():
            back = chat_unhide_for_members(chat=chat_lock(chat_id=chat.pk, take_version=False))

        assert {membership.user for membership in back} == {alice, bob}
        assert not Membership.objects.filter(chat=chat, is_hidden=True).exists()
        assert set(Membership.objects.filter(chat=chat).values_list("cleared_seq", flat=True)) == {
            1
        }
        assert sent_signals.names().count("chat_unhidden") == 2

    def test_hiding_takes_no_version(self, alice, bob):
        chat = direct_chat(alice, bob)
        chat_delete(chat_id=chat.pk, actor=alice)
        assert Chat.objects.get(pk=chat.pk).version == chat.version


class TestReadPointer:
    def test_an_unannounced_move_is_still_logged_for_receipts(self, alice, bob, sent_signals):
        chat = direct_chat(alice, bob)
        send(chat, alice)
        chat_mark_read(chat_id=chat.pk, user=bob, seq=1, announce=False)
        assert "read_moved" not in sent_signals.names()
        assert ReadMark.objects.filter(chat=chat, user=bob, seq=1).exists()

    def test_a_non_member_is_404(self, alice, bob):
        chat = group_chat(alice)
        with pytest.raises(Http404):
            chat_mark_read(chat_id=chat.pk, user=bob, seq=1)


class TestLeaving:
    def test_the_earliest_joined_member_becomes_admin(self, alice, bob, charlie):
        chat = group_chat(alice, bob)
        members_add(chat_id=chat.pk, actor=alice, user_ids=[charlie.pk])
        members_add(chat_id=chat.pk, actor=alice, user_ids=[UserFactory().pk])
        chat_leave(chat_id=chat.pk, user=alice)
        assert role_of(chat, bob) == "admin"
        assert role_of(chat, charlie) == "member"

    def test_another_admin_remaining_means_no_hand_over(self, alice, bob, charlie, sent_signals):
        chat = group_chat(alice, bob, charlie)
        Membership.objects.filter(chat=chat, user=charlie).update(role="admin")
        chat_leave(chat_id=chat.pk, user=alice)
        assert role_of(chat, bob) == "member"
        assert "member_role_changed" not in sent_signals.names()


class TestAccountDeletion:
    def delete(self, user):
        user_delete(user=user, password=TEST_PASSWORD)

    def test_a_direct_chat_stays_with_the_other_member(self, alice, bob, client_for):
        chat = direct_chat(alice, bob)
        send(chat, alice, "bye")
        self.delete(alice)
        body = client_for(bob).get(f"/api/v1/chats/{chat.pk}").json()
        assert body["other_user"] is None
        assert body["members_count"] == 1

    def test_a_direct_chat_with_nobody_left_is_deleted(self, alice, bob):
        chat = direct_chat(alice, bob)
        self.delete(alice)
        self.delete(bob)
        assert not Chat.objects.filter(pk=chat.pk).exists()

    def test_an_emptied_group_is_deleted(self, alice):
        chat = group_chat(alice)
        self.delete(alice)
        assert not Chat.objects.filter(pk=chat.pk).exists()

    def test_a_group_losing_its_last_admin_gets_its_earliest_member_as_admin(
        self, alice, bob, charlie, sent_signals
    ):
        chat = group_chat(alice, bob, charlie)
        self.delete(alice)
        assert role_of(chat, bob) == "admin"
        removed = sent_signals.only("member_removed")
        assert removed["user"].username == "alice"
        promoted = sent_signals.only("member_role_changed")
        assert (promoted["membership"].user, promoted["actor"]) == (bob, None)

    def test_it_ends_every_membership_of_the_user(self, alice, bob, charlie):
        group_chat(alice, bob)
        group_chat(bob, alice, charlie)
        direct_chat(alice, charlie)
        self.delete(alice)
        assert not Membership.objects.filter(user_id=alice.pk).exists()
        assert Chat.objects.count() == 3


class TestEvents:
    def test_a_hand_over_reaches_the_members_with_consecutive_versions(
        self, alice, bob, charlie, events
    ):
        chat = group_chat(alice, bob, charlie)
        events.join_chat(chat.pk)
        chat_leave(chat_id=chat.pk, user=alice)
        received = [
            (event["type"], event["version"]) for event in events.events() if "version" in event
        ]
        start = chat.version
        assert received == [
            ("member_removed", start + 1),
            ("new_message", start + 2),
            ("member_updated", start + 3),
        ]
