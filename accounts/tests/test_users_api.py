import uuid

import pytest

from accounts.models import User
from accounts.tests.factories import TEST_PASSWORD, UserFactory

PUBLIC_FIELDS = {"id", "username", "full_name", "bio", "status", "avatar", "is_online"}
PUBLIC_FIELDS |= {"last_seen"}


def share_a_chat(*users):
    from chats.models import Chat, Membership

    chat = Chat.objects.create(type=Chat.Type.GROUP, name="Shared")
    Membership.objects.bulk_create(Membership(chat=chat, user=user) for user in users)
    return chat


class TestMe:
    def test_it_shows_the_callers_own_account(self, alice, client_for):
        body = client_for(alice).get("/api/v1/users/me").json()
        assert body["id"] == str(alice.id)
        assert body["email"] == "alice@example.com"
        assert body["avatar"] is None

    def test_it_answers_with_and_without_a_trailing_slash(self, alice, client_for):
        client = client_for(alice)
        assert client.get("/api/v1/users/me/").json() == client.get("/api/v1/users/me").json()

    def test_is_online_follows_presence(self, alice, client_for, mark_online):
        client = client_for(alice)
        assert client.get("/api/v1/users/me").json()["is_online"] is False
        mark_online(alice)
        assert client.get("/api/v1/users/me").json()["is_online"] is True


class TestPatchMe:
    def patch(self, client, **changes):
        return client.patch("/api/v1/users/me", changes, format="json")

    def test_it_changes_the_profile(self, alice, client_for):
        changes = {
            "full_name": "Alice A.",
            "bio": "Hello\nthere ",
            "status": "🌴 away",
            "mobile_no": "+1 555 0100",
            "email": "alice@new.example",
            "username": "alice.a",
        }
        response = self.patch(client_for(alice), **changes)
        assert response.status_code == 200
        assert {field: response.json()[field] for field in changes} == changes
        alice.refresh_from_db()
        assert alice.username == "alice.a"

    def test_a_partial_change_keeps_the_rest(self, alice, client_for):
        body = self.patch(client_for(alice), status="busy").json()
        assert body["status"] == "busy"
        assert body["email"] == "alice@example.com"

    def test_a_username_taken_in_another_case_is_400(self, alice, bob, client_for):
        response = self.patch(client_for(alice), username="BOB")
        assert response.status_code == 400
        assert "username" in response.json()

    def test_an_email_taken_in_another_case_is_400(self, alice, bob, client_for):
        response = self.patch(client_for(alice), email="BOB@example.com")
        assert response.status_code == 400
        assert "email" in response.json()

    def test_changing_the_case_of_ones_own_username_is_allowed(self, alice, client_for):
        assert self.patch(client_for(alice), username="Alice").json()["username"] == "Alice"

    @pytest.mark.parametrize(
        "changes",
        [
            {"full_name": "x" * 101},
            {"bio": "x" * 501},
            {"status": "x" * 141},
            {"mobile_no": "+1 555 abc"},
            {"mobile_no": "1" * 21},
            {"username": "a b"},
            {"email": ""},
            {"bio": "nul \x00 here"},
            {"status": None},
        ],
    )
    def test_invalid_values_are_400(self, alice, client_for, changes):
        response = self.patch(client_for(alice), **changes)
        assert response.status_code == 400
        assert set(response.json()) == set(changes)

    def test_limits_are_inclusive_and_count_code_points(self, alice, client_for):
        response = self.patch(client_for(alice), bio="é" * 500, status="👍🏽" * 70)
        assert response.status_code == 200


class TestSecurityPhrase:
    def put(self, client, **fields):
        body = {"password": TEST_PASSWORD, "security_phrase": "a long phrase", **fields}
        return client.put("/api/v1/users/me/security-phrase", body, format="json")

    def test_it_sets_the_phrase_used_for_recovery(self, alice, api, client_for):
        client = client_for(alice)
        assert self.put(client).status_code == 204
        assert client.get("/api/v1/users/me").json()["has_security_phrase"] is True
        body = {
            "username": "alice",
            "security_phrase": "a long phrase",
            "new_password": "another-long-password",
        }
        assert api.post("/api/v1/auth/recover", body, format="json").status_code == 204

    def test_a_wrong_password_is_400(self, alice, client_for):
        response = self.put(client_for(alice), password="wrong")
        assert response.status_code == 400
        assert "password" in response.json()

    def test_a_short_phrase_is_400(self, alice, client_for):
        response = self.put(client_for(alice), security_phrase="short")
        assert response.status_code == 400
        assert "security_phrase" in response.json()


class TestDeleteMe:
    def delete(self, client, password=TEST_PASSWORD):
        return client.delete("/api/v1/users/me", {"password": password}, format="json")

    def test_it_deletes_the_account_and_ends_its_sessions(self, alice, api, client_for):
        client, other = client_for(alice), client_for(alice)
        assert self.delete(client).status_code == 204
        assert not User.objects.filter(pk=alice.pk).exists()
        assert other.get("/api/v1/users/me").status_code == 401
        login = {"username": "alice", "password": TEST_PASSWORD}
        assert api.post("/api/v1/auth/login", login, format="json").status_code == 401

    def test_it_tells_the_apps_above_before_the_row_goes(self, alice, client_for):
        from accounts.signals import user_deleting

        seen = []

        def receiver(sender, user, **kwargs):
            seen.append(User.objects.filter(pk=user.pk).exists())

        user_deleting.connect(receiver)
        try:
            self.delete(client_for(alice))
        finally:
            user_deleting.disconnect(receiver)
        assert seen == [True]

    def test_a_wrong_password_is_400_and_keeps_the_account(self, alice, client_for):
        client = client_for(alice)
        response = self.delete(client, password="wrong")
        assert response.status_code == 400
        assert "password" in response.json()
        assert client.get("/api/v1/users/me").status_code == 200

    def test_a_missing_password_is_400(self, alice, client_for):
        assert client_for(alice).delete("/api/v1/users/me").status_code == 400


class TestSearch:
    def search(self, client, query, **params):
        return client.get("/api/v1/users", {"search": query, **params})

    def test_it_finds_usernames_and_full_names_in_any_case(self, alice, bob, client_for):
        UserFactory(username="zed", full_name="Bobby Tables")
        body = self.search(client_for(alice), "BoB").json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert [user["username"] for user in body["results"]] == ["bob", "zed"]

    def test_email_matches_only_exactly(self, alice, bob, client_for):
        client = client_for(alice)
        assert self.search(client, "BOB@example.com").json()["count"] == 1
        assert self.search(client, "example.com").json()["count"] == 0

    def test_it_excludes_the_caller_and_inactive_users(self, alice, client_for):
        UserFactory(username="alicia", is_active=False)
        assert self.search(client_for(alice), "ali").json()["count"] == 0

    @pytest.mark.parametrize("query", ["", "b"])
    def test_under_two_characters_is_an_empty_page(self, alice, bob, client_for, query):
        body = self.search(client_for(alice), query).json()
        assert body == {"count": 0, "next": None, "previous": None, "results": []}

    def test_no_search_is_an_empty_page(self, alice, bob, client_for):
        assert client_for(alice).get("/api/v1/users").json()["count"] == 0

    def test_results_are_public_profiles(self, alice, bob, client_for):
        (user,) = self.search(client_for(alice), "bob").json()["results"]
        assert set(user) == PUBLIC_FIELDS

    def test_it_pages_with_links(self, alice, client_for):
        UserFactory.create_batch(25, full_name="Member")
        client = client_for(alice)
        first = self.search(client, "member").json()
        assert (first["count"], len(first["results"])) == (25, 20)
        assert first["previous"] is None
        second = client.get(first["next"]).json()
        assert len(second["results"]) == 5
        assert second["next"] is None

    def test_page_size_is_clamped_to_100(self, alice, client_for):
        UserFactory.create_batch(101, full_name="Member")
        body = self.search(client_for(alice), "member", page_size=500).json()
        assert len(body["results"]) == 100

    @pytest.mark.parametrize("page_size", ["0", "-3", "ten"])
    def test_a_bad_page_size_is_400(self, alice, client_for, page_size):
        assert self.search(client_for(alice), "bob", page_size=page_size).status_code == 400

    def test_a_page_past_the_end_is_404(self, alice, bob, client_for):
        assert self.search(client_for(alice), "bob", page=9).status_code == 404

    def test_it_needs_authentication(self, api, db):
        assert self.search(api, "bob").status_code == 401

    def test_a_nul_character_in_the_query_is_400(self, alice, client_for):
        assert self.search(client_for(alice), "bo\x00b").status_code == 400

    @pytest.mark.parametrize("batch", [3, 12])
    def test_queries_are_constant(
        self, alice, client_for, mark_online, django_assert_num_queries, batch
    ):
        users = UserFactory.create_batch(batch, full_name="Member")
        mark_online(users[0])
        client = client_for(alice)
        with django_assert_num_queries(3):  # session, count, page
            body = self.search(client, "member").json()
        assert body["count"] == batch
        assert [user["is_online"] for user in body["results"]].count(True) == 1


class TestPublicProfile:
    def test_it_shows_the_public_profile_only(self, alice, bob, client_for):
        bob.mobile_no = "+44 1234 5678"
        bob.save()
        body = client_for(alice).get(f"/api/v1/users/{bob.id}").json()
        assert set(body) == PUBLIC_FIELDS
        assert "bob@example.com" not in str(body)
        assert "5678" not in str(body)

    def test_an_inactive_user_is_404(self, alice, client_for):
        gone = UserFactory(username="gone", is_active=False)
        assert client_for(alice).get(f"/api/v1/users/{gone.id}").status_code == 404

    def test_an_unknown_user_is_404(self, alice, client_for):
        assert client_for(alice).get(f"/api/v1/users/{uuid.uuid4()}").status_code == 404

    def test_an_id_that_is_not_a_uuid_is_404(self, alice, client_for):
        assert client_for(alice).get("/api/v1/users/12345").status_code == 404


class TestOnline:
    def test_it_lists_online_users_who_share_a_chat(
        self, alice, bob, charlie, client_for, mark_online
    ):
        dora = UserFactory(username="dora")
        share_a_chat(alice, bob, dora)
        for user in (bob, charlie, alice):
            mark_online(user)
        body = client_for(alice).get("/api/v1/users/online").json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert [user["username"] for user in body["results"]] == ["bob"]
        assert body["results"][0]["is_online"] is True
        assert set(body["results"][0]) == PUBLIC_FIELDS

    def test_nobody_online_is_an_empty_page(self, alice, bob, client_for):
        share_a_chat(alice, bob)
        assert client_for(alice).get("/api/v1/users/online").json()["results"] == []

    @pytest.mark.parametrize("batch", [2, 8])
    def test_queries_are_constant(
        self, alice, client_for, mark_online, django_assert_num_queries, batch
    ):
        contacts = UserFactory.create_batch(batch)
        share_a_chat(alice, *contacts)
        for contact in contacts:
            mark_online(contact)
        client = client_for(alice)
        with django_assert_num_queries(4):  # session, contacts, count, page
            assert client.get("/api/v1/users/online").json()["count"] == batch


def test_socket_stats_are_for_staff_only(client_for, alice):
    assert client_for(alice).get("/api/v1/ws/stats").status_code == 403


def test_socket_stats_count_sockets_over_all_processes(client_for, alice):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    response = client_for(alice).get("/api/v1/ws/stats")
    assert response.status_code == 200
    assert response.json() == {"connections": 0, "online_users": 0}
