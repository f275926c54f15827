import uuid

import pytest

from accounts.tests.factories import UserFactory
from chats.models import Membership
from messaging.tests.factories import direct_chat, group_chat, send


def members_path(chat, user=None) -> str:
    return f"/api/v1/chats/{chat.pk}/members" + (f"/{user.pk}" if user else "")


def roles(client, chat) -> dict[str, str]:
    members = client.get(members_path(chat)).json()
    return {member["user"]["username"]: member["role"] for member in members}


def add(client, chat, *users):
    return client.post(members_path(chat), {"user_ids": [str(u.pk) for u in users]}, format="json")


def set_role(client, chat, user, role):
    return client.patch(members_path(chat, user), {"role": role}, format="json")


class TestList:
    def test_members_see_every_member_earliest_first(self, alice, bob, charlie, client_for):
        chat = group_chat(alice, bob, charlie)
        body = client_for(charlie).get(members_path(chat)).json()
        assert [m["user"]["username"] for m in body] == ["alice", "bob", "charlie"]
        assert [m["role"] for m in body] == ["admin", "member", "member"]
        assert set(body[0]) == {"user", "role", "joined_at", "last_read_seq"}

    def test_it_keeps_a_constant_number_of_queries(
        self, alice, client_for, django_assert_max_num_queries
    ):
        small = group_chat(alice, *UserFactory.create_batch(2))
        large = group_chat(alice, *UserFactory.create_batch(30))
        client = client_for(alice)
        with django_assert_max_num_queries(4):
            assert len(client.get(members_path(small)).json()) == 3
        with django_assert_max_num_queries(4):
            assert len(client.get(members_path(large)).json()) == 31


class TestAdd:
    def test_admins_add_members_and_present_ones_are_ignored(
        self, alice, bob, charlie, client_for, sent_signals
    ):
        chat = group_chat(alice, bob)
        response = add(client_for(alice), chat, bob, charlie)
        assert response.status_code == 200
        assert [m["user"]["username"] for m in response.json()] == ["alice", "bob", "charlie"]
        added = sent_signals.only("members_added")
        assert [m.user for m in added["memberships"]] == [charlie]
        assert added["actor"] == alice

    def test_adding_only_present_members_changes_nothing(self, alice, bob, client_for):
        chat = group_chat(alice, bob)
        response = add(client_for(alice), chat, bob)
        assert response.status_code == 200
        chat_before = chat.version
        chat.refresh_from_db()
        assert chat.version == chat_before

    def test_a_new_member_sees_the_whole_history_with_the_pointer_at_the_end(
        self, alice, bob, charlie, client_for
    ):
        chat = group_chat(alice, bob)
        send(chat, bob, "before you came")
        add(client_for(alice), chat, charlie)
        client = client_for(charlie)
        mine = client.get(f"/api/v1/chats/{chat.pk}").json()
        history = client.get(f"/api/v1/chats/{chat.pk}/messages").json()["results"]
        assert history[0]["content"] == "before you came"
        # Read up to the chat's last message when joining: only later messages are unread.
        assert mine["last_read_seq"] == 1
        assert mine["unread_count"] == mine["last_seq"] - 1

    def test_members_may_not_add(self, alice, bob, charlie, client_for):
        chat = group_chat(alice, bob)
        assert add(client_for(bob), chat, charlie).status_code == 403

    @pytest.mark.parametrize("problem", ["unknown", "inactive", "duplicate", "not an id"])
    def test_it_refuses_bad_user_ids(self, alice, bob, client_for, problem):
        chat = group_chat(alice)
        ids = {
            "unknown": [str(uuid.uuid4())],
            "inactive": [str(UserFactory(username="gone", is_active=False).pk)],
            "duplicate": [str(bob.pk), str(bob.pk)],
            "not an id": ["bob"],
        }[problem]
        response = client_for(alice).post(members_path(chat), {"user_ids": ids}, format="json")
        assert response.status_code == 400
        assert "user_ids" in response.json()

    def test_a_group_holds_at_most_100(self, alice, client_for):
        chat = group_chat(alice, *UserFactory.create_batch(98))
        client = client_for(alice)
        assert add(client, chat, *UserFactory.create_batch(2)).status_code == 400
        assert add(client, chat, UserFactory()).status_code == 200
        assert Membership.objects.filter(chat=chat).count() == 100
        assert add(client, chat, UserFactory()).status_code == 400


class TestRole:
    def test_admins_promote_and_demote(self, alice, bob, client_for, sent_signals):
        chat = group_chat(alice, bob)
        client = client_for(alice)
        response = set_role(client, chat, bob, "admin")
        assert response.status_code == 200
        assert response.json()["user"]["username"] == "bob"
        assert response.json()["role"] == "admin"
        changed = sent_signals.only("member_role_changed")
        assert (changed["membership"].user, changed["membership"].role) == (bob, "admin")
        assert changed["version"] == chat.version + 1
        assert set_role(client, chat, alice, "member").status_code == 200
        assert roles(client, chat) == {"alice": "member", "bob": "admin"}

    def test_demoting_the_last_admin_is_400(self, alice, bob, client_for):
        chat = group_chat(alice, bob)
        assert set_role(client_for(alice), chat, alice, "member").status_code == 400

    def test_members_may_not_change_roles(self, alice, bob, client_for):
        chat = group_chat(alice, bob)
        assert set_role(client_for(bob), chat, bob, "admin").status_code == 403

    def test_an_unknown_role_is_400_and_a_non_member_404(self, alice, charlie, client_for):
        chat = group_chat(alice)
        client = client_for(alice)
        assert set_role(client, chat, alice, "owner").status_code == 400
        assert set_role(client, chat, charlie, "admin").status_code == 404


class TestRemove:
    def test_admins_remove_members(self, alice, bob, client_for, sent_signals):
        chat = group_chat(alice, bob)
        assert client_for(alice).delete(members_path(chat, bob)).status_code == 204
        assert client_for(bob).get(f"/api/v1/chats/{chat.pk}").status_code == 404
        removed = sent_signals.only("member_removed")
        assert (removed["user"], removed["actor"]) == (bob, alice)

    def test_a_member_removes_only_themselves(self, alice, bob, charlie, client_for):
        chat = group_chat(alice, bob, charlie)
        client = client_for(bob)
        assert client.delete(members_path(chat, charlie)).status_code == 403
        assert client.delete(members_path(chat, bob)).status_code == 204
        assert roles(client_for(alice), chat) == {"alice": "admin", "charlie": "member"}

    def test_removing_the_last_admin_is_400(self, alice, bob, client_for):
        chat = group_chat(alice, bob)
        assert client_for(alice).delete(members_path(chat, alice)).status_code == 400
        set_role(client_for(alice), chat, bob, "admin")
        assert client_for(alice).delete(members_path(chat, alice)).status_code == 204

    def test_removing_a_non_member_is_404(self, alice, charlie, client_for):
        chat = group_chat(alice)
        assert client_for(alice).delete(members_path(chat, charlie)).status_code == 404


class TestDirectChats:
    @pytest.mark.parametrize(
        ("method", "target", "body"),
        [
            ("get", None, None),
            ("post", None, {"user_ids": []}),
            ("patch", "bob", {"role": "admin"}),
            ("delete", "bob", None),
        ],
    )
    def test_member_routes_on_a_direct_chat_are_400(
        self, alice, bob, client_for, method, target, body
    ):
        chat = direct_chat(alice, bob)
        path = members_path(chat, bob if target else None)
        response = getattr(client_for(alice), method)(path, body, format="json")
        assert response.status_code == 400
