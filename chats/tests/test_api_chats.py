import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from chatproject.tests.collector import models_left_for_the_collector
from chatproject.tests.factories import image_bytes, upload
from chats.models import Chat, Membership, ReadMark
from messaging.services import reaction_add
from messaging.tests.factories import direct_chat, group_chat, send

CHAT_FIELDS = {
    "id",
    "type",
    "name",
    "description",
    "avatar",
    "created_at",
    "last_message",
    "last_seq",
    "version",
    "unread_count",
    "members_count",
    "my_role",
    "other_user",
    "last_read_seq",
    "cleared_seq",
}


def chat_ids(body) -> list[str]:
    return [chat["id"] for chat in body["results"]]


class TestNonMembers:
    ROUTES = [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("put", "/avatar"),
        ("delete", "/avatar"),
        ("post", "/leave"),
        ("get", "/members"),
        ("post", "/members"),
        ("patch", "/members/{user}"),
        ("delete", "/members/{user}"),
        ("post", "/read"),
        ("get", "/online"),
    ]
    BODIES = {
        ("patch", ""): {"name": "Mine now"},
        ("post", "/members"): {"user_ids": []},
        ("patch", "/members/{user}"): {"role": "admin"},
        ("post", "/read"): {"seq": 1},
    }

    def call(self, client, method, chat_id, route, user):
        path = f"/api/v1/chats/{chat_id}{route}".format(user=user.pk)
        if (method, route) == ("put", "/avatar"):
            return client.put(path, {"avatar": upload(image_bytes())}, format="multipart")
        return getattr(client, method)(path, self.BODIES.get((method, route)), format="json")

    @pytest.mark.parametrize(("method", "route"), ROUTES)
    def test_non_member_gets_404_on_every_chat_route(
        self, alice, bob, charlie, client_for, method, route
    ):
        chat = group_chat(alice, bob)
        response = self.call(client_for(charlie), method, chat.pk, route, bob)
        assert response.status_code == 404
        assert Chat.objects.get(pk=chat.pk).name == "Team"
        assert Membership.objects.filter(chat=chat).count() == 2

    @pytest.mark.parametrize(("method", "route"), ROUTES)
    def test_an_unknown_chat_is_404_too(self, alice, client_for, method, route):
        response = self.call(client_for(alice), method, uuid.uuid4(), route, alice)
        assert response.status_code == 404


class TestCreateDirect:
    def create(self, client, user_id):
        return client.post(
            "/api/v1/chats", {"type": "direct", "user_id": str(user_id)}, format="json"
        )

    def test_it_creates_a_direct_chat_once_per_pair(self, alice, bob, client_for):
        created = self.create(client_for(alice), bob.pk)
        assert created.status_code == 201
        body = created.json()
        assert CHAT_FIELDS | {"members"} == set(body)
        assert body["type"] == "direct"
        assert body["other_user"]["id"] == str(bob.pk)
        assert "email" not in body["other_user"]
        assert body["members_count"] == 2
        again = self.create(client_for(bob), alice.pk)
        assert again.status_code == 200
        assert again.json()["id"] == body["id"]
        assert again.json()["other_user"]["id"] == str(alice.pk)
        assert Chat.objects.count() == 1

    @pytest.mark.parametrize("who", ["self", "unknown", "inactive"])
    def test_it_refuses_oneself_unknown_and_inactive_users(self, alice, client_for, who):
        other = {
            "self": alice.pk,
            "unknown": uuid.uuid4(),
            "inactive": UserFactory(username="gone", is_active=False).pk,
        }[who]
        response = self.create(client_for(alice), other)
        assert response.status_code == 400
        assert "user_id" in response.json()
        assert not Chat.objects.exists()

    @pytest.mark.parametrize(
        "body",
        [{"type": "direct"}, {"type": "direct", "user_id": "nope"}, {"type": "room"}, {}, []],
    )
    def test_bad_input_is_400(self, alice, client_for, body):
        assert client_for(alice).post("/api/v1/chats", body, format="json").status_code == 400

    def test_opening_a_hidden_chat_again_brings_it_back_without_its_history(
        self, alice, bob, client_for
    ):
        chat = direct_chat(alice, bob)
        send(chat, bob, "before")
        client = client_for(alice)
        assert client.delete(f"/api/v1/chats/{chat.pk}").status_code == 204
        assert chat_ids(client.get("/api/v1/chats").json()) == []

        again = self.create(client, bob.pk)

        assert again.status_code == 200
        assert again.json()["cleared_seq"] == 1
        assert again.json()["last_message"] is None
        assert again.json()["unread_count"] == 0
        assert chat_ids(client.get("/api/v1/chats").json()) == [str(chat.pk)]


class TestCreateGroup:
    def create(self, client, **body):
        return client.post("/api/v1/chats", {"type": "group", **body}, format="json")

    def test_the_creator_is_admin_and_members_are_members(self, alice, bob, charlie, client_for):
        response = self.create(
            client_for(alice),
            name="  Team  ",
            description="Work",
            member_ids=[str(bob.pk), str(charlie.pk)],
        )
        assert response.status_code == 201
        body = response.json()
        assert body["name"] == "Team"
        assert body["description"] == "Work"
        assert body["my_role"] == "admin"
        assert body["other_user"] is None
        assert body["members_count"] == 3
        roles = {member["user"]["username"]: member["role"] for member in body["members"]}
        assert roles == {"alice": "admin", "bob": "member", "charlie": "member"}

    def test_member_ids_may_be_empty(self, alice, client_for):
        response = self.create(client_for(alice), name="Just me", member_ids=[])
        assert response.status_code == 201
        assert response.json()["members_count"] == 1

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "   "}, "name"),
            ({"name": "x" * 101}, "name"),
            ({"name": "ok", "description": "x" * 1001}, "description"),
            ({"name": "nul\x00"}, "name"),
            ({"member_ids": []}, "name"),
            ({"name": 5}, "name"),
        ],
    )
    def test_it_refuses_bad_names_and_descriptions(self, alice, client_for, body, field):
        response = self.create(client_for(alice), **body)
        assert response.status_code == 400
        assert field in response.json()

    def test_a_name_of_100_and_a_description_of_1000_are_fine(self, alice, client_for):
        response = self.create(client_for(alice), name="é" * 100, description="d" * 1000)
        assert response.status_code == 201

    @pytest.mark.parametrize("problem", ["unknown", "inactive", "duplicate"])
    def test_it_refuses_unknown_inactive_and_duplicate_members(
        self, alice, bob, client_for, problem
    ):
        extra = {
            "unknown": uuid.uuid4(),
            "inactive": UserFactory(username="gone", is_active=False).pk,
            "duplicate": bob.pk,
        }[problem]
        response = self.create(client_for(alice), name="T", member_ids=[str(bob.pk), str(extra)])
        assert response.status_code == 400
        assert "member_ids" in response.json()
        assert not Chat.objects.exists()

    def test_100_members_in_all_is_the_limit(self, alice, client_for):
        others = [str(user.pk) for user in UserFactory.create_batch(100)]
        too_many = self.create(client_for(alice), name="Big", member_ids=others)
        assert too_many.status_code == 400
        full = self.create(client_for(alice), name="Big", member_ids=others[:99])
        assert full.status_code == 201
        assert full.json()["members_count"] == 100


class TestList:
    def test_it_lists_visible_chats_by_latest_activity(self, alice, bob, charlie, client_for):
        first = group_chat(alice, bob, name="First")
        second = direct_chat(alice, charlie)
        third = group_chat(bob, charlie, name="Not mine")
        send(first, bob, "news")
        body = client_for(alice).get("/api/v1/chats").json()
        assert chat_ids(body) == [str(first.pk), str(second.pk)]
        assert body["next"] is None
        assert str(third.pk) not in chat_ids(body)
        latest = body["results"][0]
        assert set(latest) == CHAT_FIELDS
        assert latest["last_message"]["content"] == "news"
        assert latest["last_message"]["sender"]["username"] == "bob"
        assert latest["unread_count"] == 1

    def test_cursor_paging_goes_through_every_chat_once(self, alice, client_for):
        chats = [group_chat(alice, name=f"G{n}") for n in range(5)]
        client = client_for(alice)
        seen, cursor = [], None
        while True:
            query = {"limit": 2} | ({"before": cursor} if cursor else {})
            body = client.get("/api/v1/chats", query).json()
            seen += chat_ids(body)
            cursor = body["next"]
            if cursor is None:
                break
        assert seen == [str(chat.pk) for chat in reversed(chats)]

    def test_a_chat_that_moves_up_while_paging_shows_on_the_next_first_page(
        self, alice, bob, client_for
    ):
        chats = [group_chat(alice, bob, name=f"G{n}") for n in range(4)]
        client = client_for(alice)
        first_page = client.get("/api/v1/chats", {"limit": 2}).json()
        assert chat_ids(first_page) == [str(chats[3].pk), str(chats[2].pk)]

        send(chats[0], bob, "I moved up")

        second_page = client.get("/api/v1/chats", {"limit": 2, "before": first_page["next"]})
        assert chat_ids(second_page.json()) == [str(chats[1].pk)]
        new_first = client.get("/api/v1/chats", {"limit": 2}).json()
        assert chat_ids(new_first) == [str(chats[0].pk), str(chats[3].pk)]

    @pytest.mark.parametrize(
        "query", [{"limit": "ten"}, {"limit": 0}, {"limit": -1}, {"before": "garbage"}]
    )
    def test_bad_paging_parameters_are_400(self, alice, client_for, query):
        assert client_for(alice).get("/api/v1/chats", query).status_code == 400

    def test_a_limit_over_100_is_clamped(self, alice, client_for):
        for n in range(3):
            group_chat(alice, name=f"G{n}")
        body = client_for(alice).get("/api/v1/chats", {"limit": 1000}).json()
        assert len(body["results"]) == 3

    def test_it_keeps_a_constant_number_of_queries(self, alice, client_for):
        client = client_for(alice)

        def queries_for_list() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert client.get("/api/v1/chats").status_code == 200
            return len(queries)

        def add_chats(count):
            for _ in range(count):
                other = UserFactory()
                send(direct_chat(alice, other), other, "hi")
                group = group_chat(alice, other, UserFactory())
                first = send(group, other, "hello")
                reply = send(group, alice, "hello to you", reply_to_id=first.pk)
                reaction_add(message_id=reply.pk, user=other, emoji="👍")

        add_chats(2)
        # The session, the page (with member counts and last message ids), the direct chats'
        # other members, the last messages and their reactions.
        assert queries_for_list() == 5
        add_chats(6)
        assert queries_for_list() == 5

    def test_a_page_leaves_no_chat_for_the_cyclic_collector(self, alice, bob, client_for):
        for n in range(3):
            send(group_chat(alice, bob, name=f"G{n}"), bob, "hello")
        client = client_for(alice)
        left = models_left_for_the_collector(lambda: client.get("/api/v1/chats"))
        assert not left.keys() & {"Chat", "Membership", "Message"}

    def test_each_chat_shows_its_last_message_as_a_message_shows(self, alice, bob, client_for):
        group = group_chat(alice, bob)
        first = send(group, bob, "question")
        answer = send(group, alice, "answer", reply_to_id=first.pk)
        reaction_add(message_id=answer.pk, user=bob, emoji="👍")
        send(group_chat(alice, bob, name="Other"), bob, "elsewhere")
        client = client_for(alice)

        listed = {chat["id"]: chat for chat in client.get("/api/v1/chats").json()["results"]}
        history = client.get(f"/api/v1/chats/{group.pk}/messages").json()["results"]

        assert listed[str(group.pk)]["last_message"] == history[-1]
        assert history[-1]["reply_to"]["content"] == "question"
        assert history[-1]["reactions"] == [{"emoji": "👍", "count": 1, "user_ids": [str(bob.pk)]}]
        assert listed[str(group.pk)]["members_count"] == 2


class TestSync:
    def test_it_lists_the_counters_of_every_visible_chat(self, alice, bob, charlie, client_for):
        group = group_chat(alice, bob)
        send(group, bob)
        hidden = direct_chat(alice, charlie)
        client = client_for(alice)
        client.delete(f"/api/v1/chats/{hidden.pk}")
        group.refresh_from_db()
        assert client.get("/api/v1/chats/sync").json() == [
            {
                "id": str(group.pk),
                "version": group.version,
                "last_seq": group.last_seq,
                "last_read_seq": 0,
                "cleared_seq": 0,
            }
        ]


class TestDetail:
    def test_it_shows_the_chat_with_its_members(self, alice, bob, client_for):
        chat = group_chat(alice, bob)
        body = client_for(bob).get(f"/api/v1/chats/{chat.pk}/").json()
        assert body["my_role"] == "member"
        assert [m["user"]["username"] for m in body["members"]] == ["alice", "bob"]
        assert set(body["members"][0]) == {"user", "role", "joined_at", "last_read_seq"}

    def test_admins_rename_and_describe_a_group(self, alice, bob, client_for, sent_signals):
        chat = group_chat(alice, bob)
        response = client_for(alice).patch(
            f"/api/v1/chats/{chat.pk}", {"name": "New", "description": "About"}, format="json"
        )
        assert response.status_code == 200
        assert (response.json()["name"], response.json()["description"]) == ("New", "About")
        updated = sent_signals.only("chat_updated")
        assert updated["actor"] == alice
        assert updated["version"] == response.json()["version"] == chat.version + 1

    @pytest.mark.parametrize("body", [{}, {"name": "Team"}, {"name": " Team ", "description": ""}])
    def test_what_the_group_has_already_changes_nothing(
        self, alice, bob, client_for, sent_signals, body
    ):
        chat = group_chat(alice, bob)
        response = client_for(alice).patch(f"/api/v1/chats/{chat.pk}", body, format="json")
        assert response.status_code == 200
        assert (response.json()["name"], response.json()["version"]) == ("Team", chat.version)
        assert "chat_updated" not in [name for name, _ in sent_signals]

    def test_members_may_not_change_a_group(self, alice, bob, client_for):
        chat = group_chat(alice, bob)
        response = client_for(bob).patch(f"/api/v1/chats/{chat.pk}", {"name": "X"}, format="json")
        assert response.status_code == 403

    def test_a_direct_chat_has_nothing_to_change(self, alice, bob, client_for):
        chat = direct_chat(alice, bob)
        response = client_for(alice).patch(f"/api/v1/chats/{chat.pk}", {"name": "X"}, format="json")
        assert response.status_code == 400

    def test_a_blank_name_is_refused(self, alice, client_for):
        chat = group_chat(alice)
        response = client_for(alice).patch(f"/api/v1/chats/{chat.pk}", {"name": " "}, format="json")
        assert response.status_code == 400
        assert "name" in response.json()


class TestAvatar:
    def put(self, client, chat, content, name="a.png"):
        return client.put(
            f"/api/v1/chats/{chat.pk}/avatar", {"avatar": upload(content, name)}, format="multipart"
        )

    def test_admins_set_and_remove_a_group_avatar(self, alice, bob, client_for):
        chat = group_chat(alice, bob)
        client = client_for(alice)
        response = self.put(client, chat, image_bytes("PNG"))
        assert response.status_code == 200
        link = response.json()["avatar"]
        assert link.startswith("/files/")
        served = client.get(link)
        assert served.status_code == 200
        assert served["Content-Type"] == "image/png"
        removed = client.delete(f"/api/v1/chats/{chat.pk}/avatar")
        assert removed.status_code == 200
        assert removed.json()["avatar"] is None

    def test_it_refuses_what_is_not_an_image(self, alice, client_for):
        chat = group_chat(alice)
        response = self.put(client_for(alice), chat, b"<svg></svg>", "a.svg")
        assert response.status_code == 400
        assert "avatar" in response.json()

    def test_it_refuses_an_image_over_the_limit(self, alice, client_for, settings):
        settings.MAX_AVATAR_BYTES = 100
        chat = group_chat(alice)
        assert self.put(client_for(alice), chat, image_bytes(size=(200, 200))).status_code == 413

    def test_a_body_over_the_avatar_limit_is_refused_before_it_is_read(
        self, alice, client_for, settings
    ):
        chat = group_chat(alice)
        big = image_bytes() + b"\0" * (settings.MAX_AVATAR_BYTES + 128 * 1024)
        assert self.put(client_for(alice), chat, big).status_code == 413

    def test_members_403_and_direct_chats_400(self, alice, bob, client_for):
        group = group_chat(alice, bob)
        assert self.put(client_for(bob), group, image_bytes()).status_code == 403
        direct = direct_chat(alice, bob)
        assert self.put(client_for(alice), direct, image_bytes()).status_code == 400
        assert client_for(alice).delete(f"/api/v1/chats/{direct.pk}/avatar").status_code == 400


class TestDelete:
    def test_deleting_a_direct_chat_hides_and_clears_it_for_the_caller_only(
        self, alice, bob, client_for, sent_signals
    ):
        chat = direct_chat(alice, bob)
        send(chat, bob, "one")
        send(chat, alice, "two")
        alice_client, bob_client = client_for(alice), client_for(bob)

        assert alice_client.delete(f"/api/v1/chats/{chat.pk}").status_code == 204

        assert chat_ids(alice_client.get("/api/v1/chats").json()) == []
        assert chat_ids(bob_client.get("/api/v1/chats").json()) == [str(chat.pk)]
        hidden = sent_signals.only("chat_hidden")
        assert hidden["membership"].user == alice
        assert hidden["membership"].cleared_seq == 2

    def test_a_hidden_chat_comes_back_with_the_next_message(self, alice, bob, client_for):
        chat = direct_chat(alice, bob)
        send(chat, bob, "old")
        client = client_for(alice)
        client.delete(f"/api/v1/chats/{chat.pk}")

        send(chat, bob, "new")

        (shown,) = client.get("/api/v1/chats").json()["results"]
        assert shown["last_message"]["content"] == "new"
        assert shown["cleared_seq"] == 1
        assert shown["unread_count"] == 1

    def test_admins_delete_a_group_for_everyone(self, alice, bob, client_for, sent_signals):
        chat = group_chat(alice, bob)
        assert client_for(alice).delete(f"/api/v1/chats/{chat.pk}").status_code == 204
        assert not Chat.objects.filter(pk=chat.pk).exists()
        assert client_for(bob).get(f"/api/v1/chats/{chat.pk}").status_code == 404
        deleted = sent_signals.only("chat_deleted")
        assert deleted["chat"].pk == chat.pk
        assert set(deleted["user_ids"]) == {alice.pk, bob.pk}
        assert deleted["actor"] == alice

    def test_members_may_not_delete_a_group(self, alice, bob, client_for):
        chat = group_chat(alice, bob)
        assert client_for(bob).delete(f"/api/v1/chats/{chat.pk}").status_code == 403
        assert Chat.objects.filter(pk=chat.pk).exists()


class TestLeave:
    def test_a_member_leaves_a_group(self, alice, bob, client_for, sent_signals):
        chat = group_chat(alice, bob)
        assert client_for(bob).post(f"/api/v1/chats/{chat.pk}/leave").status_code == 204
        assert client_for(bob).get(f"/api/v1/chats/{chat.pk}").status_code == 404
        removed = sent_signals.only("member_removed")
        assert (removed["user"], removed["actor"]) == (bob, bob)

    def test_the_last_admin_leaving_hands_admin_to_the_earliest_joined_member(
        self, alice, bob, charlie, client_for, sent_signals
    ):
        chat = group_chat(alice, bob)
        client_for(alice).post(f"/api/v1/chats/{chat.pk}/members", {"user_ids": [str(charlie.pk)]})

        client_for(alice).post(f"/api/v1/chats/{chat.pk}/leave")

        members = client_for(bob).get(f"/api/v1/chats/{chat.pk}/members").json()
        assert {m["user"]["username"]: m["role"] for m in members} == {
            "bob": "admin",
            "charlie": "member",
        }
        promoted = sent_signals.only("member_role_changed")
        assert (promoted["membership"].user, promoted["actor"]) == (bob, None)
        assert promoted["version"] > sent_signals.only("member_removed")["version"]

    def test_the_last_member_leaving_deletes_the_group(self, alice, client_for, sent_signals):
        chat = group_chat(alice)
        assert client_for(alice).post(f"/api/v1/chats/{chat.pk}/leave").status_code == 204
        assert not Chat.objects.filter(pk=chat.pk).exists()
        assert sent_signals.only("chat_deleted")["user_ids"] == [alice.pk]

    def test_a_direct_chat_cannot_be_left(self, alice, bob, client_for):
        chat = direct_chat(alice, bob)
        assert client_for(alice).post(f"/api/v1/chats/{chat.pk}/leave").status_code == 400


class TestRead:
    def read(self, client, chat, seq):
        return client.post(f"/api/v1/chats/{chat.pk}/read", {"seq": seq}, format="json")

    def test_it_moves_the_pointer_forward_clamped_to_the_last_message(
        self, alice, bob, client_for, sent_signals
    ):
        chat = direct_chat(alice, bob)
        for _ in range(3):
            send(chat, alice)
        client = client_for(bob)
        assert client.get(f"/api/v1/chats/{chat.pk}").json()["unread_count"] == 3

        assert self.read(client, chat, 2).status_code == 204
        assert self.read(client, chat, 99).status_code == 204

        body = client.get(f"/api/v1/chats/{chat.pk}").json()
        assert (body["last_read_seq"], body["unread_count"]) == (3, 0)
        moves = [
            args["membership"].last_read_seq for name, args in sent_signals if name == "read_moved"
        ]
        assert moves == [2, 3]
        marks = chat_read_marks(chat, bob)
        assert marks == [2, 3]

    def test_reading_at_or_below_the_pointer_does_nothing(
        self, alice, bob, client_for, sent_signals
    ):
        chat = direct_chat(alice, bob)
        send(chat, alice)
        send(chat, alice)
        client = client_for(bob)
        self.read(client, chat, 2)
        assert self.read(client, chat, 1).status_code == 204
        assert self.read(client, chat, 2).status_code == 204
        assert sent_signals.names().count("read_moved") == 1
        assert client.get(f"/api/v1/chats/{chat.pk}").json()["last_read_seq"] == 2

    @pytest.mark.parametrize("seq", [-1, "two", None, 1.5])
    def test_a_bad_seq_is_400(self, alice, client_for, seq):
        chat = group_chat(alice)
        assert self.read(client_for(alice), chat, seq).status_code == 400


def chat_read_marks(chat, user) -> list[int]:

    return list(
        ReadMark.objects.filter(chat=chat, user=user)
        .order_by("at", "id")
        .values_list("seq", flat=True)
    )


class TestOnline:
    def test_it_lists_the_members_online_now(self, alice, bob, charlie, client_for, mark_online):
        chat = group_chat(alice, bob, charlie)
        mark_online(bob)
        mark_online(UserFactory())
        body = client_for(alice).get(f"/api/v1/chats/{chat.pk}/online").json()
        assert [(user["username"], user["is_online"]) for user in body] == [("bob", True)]
