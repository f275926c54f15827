import json
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.services import session_start
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from accounts.tests.hashers import CountingHasher

NEW_PASSWORD = "a-brand-new-long-password"
PHRASE = "the owl flies at noon"
ME_FIELDS = {
    "id",
    "username",
    "email",
    "full_name",
    "mobile_no",
    "bio",
    "status",
    "avatar",
    "is_online",
    "last_seen",
    "date_joined",
    "has_security_phrase",
}


def register(api, **fields):
    body = {"username": "dora", "email": "dora@example.com", "password": TEST_PASSWORD}
    return api.post("/api/v1/auth/register", {**body, **fields}, format="json")


def bearer(api, access):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return api


def me_status(api, access) -> int:
    return bearer(api, access).get("/api/v1/users/me").status_code


def answer(response) -> tuple:
    """All a client can tell of a refusal: status, body and authentication challenge."""
    return response.status_code, response.json(), response.get("WWW-Authenticate")


@pytest.fixture
def counting_hasher(settings):
    """Passwords and phrases hashed, and checked, by a hasher that counts its runs."""
    settings.PASSWORD_HASHERS = ["accounts.tests.hashers.CountingHasher"]
    return CountingHasher


@pytest.mark.django_db
class TestRegister:
    def test_it_creates_the_account_and_logs_in(self, api):
        response = register(api, full_name="Dora D", mobile_no="+44 (20) 7946-0000")
        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"access", "refresh", "user"}
        assert set(body["user"]) == ME_FIELDS
        assert body["user"]["username"] == "dora"
        assert body["user"]["mobile_no"] == "+44 (20) 7946-0000"
        assert body["user"]["has_security_phrase"] is False
        assert me_status(api, body["access"]) == 200

    def test_tokens_carry_the_contract_claims(self, api):
        body = register(api).json()
        claims = AccessToken(body["access"]).payload
        assert {"token_type", "exp", "iat", "jti", "user_id", "sid"} <= set(claims)
        assert claims["user_id"] == body["user"]["id"]
        assert claims["token_type"] == "access"

    def test_it_stores_the_security_phrase_hashed(self, api):
        body = register(api, security_phrase="my secret phrase").json()
        assert body["user"]["has_security_phrase"] is True
        stored = User.objects.get(username="dora").security_phrase
        assert stored and "my secret phrase" not in stored

    def test_text_is_stored_as_sent(self, api):
        body = register(api, full_name="  Dora  ").json()
        assert body["user"]["full_name"] == "  Dora  "

    def test_a_username_taken_in_another_case_is_400(self, api, alice):
        response = register(api, username="ALICE")
        assert response.status_code == 400
        assert "username" in response.json()

    def test_an_email_taken_in_another_case_is_400(self, api, alice):
        response = register(api, email="Alice@Example.COM")
        assert response.status_code == 400
        assert "email" in response.json()

    @pytest.mark.parametrize("username", ["do", "d" * 33, "dora!", "dóra", "do ra"])
    def test_a_username_outside_the_rules_is_400(self, api, username):
        response = register(api, username=username)
        assert response.status_code == 400
        assert "username" in response.json()

    def test_a_weak_password_is_400(self, api):
        response = register(api, password="12345678")
        assert response.status_code == 400
        assert "password" in response.json()

    def test_a_password_like_the_username_is_400(self, api):
        response = register(api, username="dorathebrave", password="dorathebrave")
        assert response.status_code == 400
        assert "password" in response.json()

    @pytest.mark.parametrize(
        "fields",
        [
            {"mobile_no": "call me"},
            {"mobile_no": "12345"},
            {"security_phrase": "short"},
            {"full_name": "x" * 101},
            {"email": "not-an-email"},
        ],
    )
    def test_invalid_optional_fields_are_400(self, api, fields):
        response = register(api, **fields)
        assert response.status_code == 400
        assert set(response.json()) == set(fields)

    def test_limits_count_code_points(self, api):
        response = register(api, full_name="😀" * 100)
        assert response.status_code == 201
        assert response.json()["user"]["full_name"] == "😀" * 100

    def test_a_nul_character_is_400(self, api):
        response = register(api, full_name="Do\x00ra")
        assert response.status_code == 400
        assert "full_name" in response.json()

    def test_an_unpaired_surrogate_is_400(self, api):
        body = '{"username": "dora", "email": "d@example.com", "password": "%s", '
        body += '"full_name": "Dora \\ud83d"}'
        response = api.post(
            "/api/v1/auth/register", body % TEST_PASSWORD, content_type="application/json"
        )
        assert response.status_code == 400
        assert "full_name" in response.json()

    def test_a_number_where_text_belongs_is_400(self, api):
        response = register(api, full_name=12)
        assert response.status_code == 400

    def test_a_body_that_is_not_json_is_400(self, api):
        response = api.post("/api/v1/auth/register", "{not json", content_type="application/json")
        assert response.status_code == 400


@pytest.mark.django_db
class TestLogin:
    def login(self, api, username, password=TEST_PASSWORD):
        body = {"username": username, "password": password}
        return api.post("/api/v1/auth/login", body, format="json")

    @pytest.mark.parametrize("login", ["alice", "ALICE", "alice@example.com", "Alice@EXAMPLE.com"])
    def test_it_logs_in_by_username_or_email_in_any_case(self, api, alice, login):
        response = self.login(api, login)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access", "refresh", "user"}
        assert body["user"]["id"] == str(alice.id)
        assert me_status(api, body["access"]) == 200

    @pytest.mark.parametrize(
        ("username", "password"),
        [("dora", "not-her-password"), ("gone", TEST_PASSWORD), ("locked", TEST_PASSWORD)],
        ids=["wrong password", "deactivated", "unusable password"],
    )
    def test_a_refusal_answers_and_hashes_as_for_an_unknown_user(
        self, api, counting_hasher, username, password
    ):
        UserFactory(username="dora", password=make_password(TEST_PASSWORD))
        UserFactory(username="gone", password=make_password(TEST_PASSWORD), is_active=False)
        UserFactory(username="locked", password=make_password(None))
        counting_hasher.take()
        refused = answer(self.login(api, username, password))
        refused_hashes = counting_hasher.take()
        unknown = answer(self.login(api, "nobody", password))
        assert refused == unknown
        assert refused[0] == 401
        assert refused_hashes == counting_hasher.take() == 1

    def test_missing_fields_are_400(self, api):
        assert api.post("/api/v1/auth/login", {}, format="json").status_code == 400

    def test_a_stale_authorization_header_does_not_block_login(self, api, alice):
        bearer(api, "not-a-token")
        assert self.login(api, "alice").status_code == 200


@pytest.mark.django_db
class TestRefresh:
    def refresh(self, api, token):
        return api.post("/api/v1/auth/refresh", {"refresh": token}, format="json")

    def test_it_rotates_the_pair(self, api, alice):
        tokens = session_start(user=alice)
        response = self.refresh(api, tokens["refresh"])
        assert response.status_code == 200
        fresh = response.json()
        assert set(fresh) == {"access", "refresh"}
        assert AccessToken(fresh["access"])["sid"] == AccessToken(tokens["access"])["sid"]
        assert self.refresh(api, fresh["refresh"]).status_code == 200

    def test_a_spent_refresh_is_401(self, api, alice):
        tokens = session_start(user=alice)
        self.refresh(api, tokens["refresh"])
        assert self.refresh(api, tokens["refresh"]).status_code == 401

    def test_a_refresh_of_an_ended_session_is_401(self, api, alice, client_for):
        client = client_for(alice)
        client.post("/api/v1/auth/logout", {"refresh": client.tokens["refresh"]}, format="json")
        assert self.refresh(api, client.tokens["refresh"]).status_code == 401

    @pytest.mark.parametrize("token", ["garbage", ""])
    def test_a_token_that_is_not_a_refresh_is_401_or_400(self, api, token):
        assert self.refresh(api, token).status_code in {400, 401}

    def test_an_access_token_is_not_a_refresh(self, api, alice):
        tokens = session_start(user=alice)
        assert self.refresh(api, tokens["access"]).status_code == 401

    def test_a_deactivated_users_refresh_is_401(self, api, alice):
        tokens = session_start(user=alice)
        User.objects.filter(pk=alice.pk).update(is_active=False)
        assert self.refresh(api, tokens["refresh"]).status_code == 401


@pytest.mark.postgres
def test_exactly_one_of_concurrent_refreshes_of_a_token_succeeds(transactional_db, settings):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection
    from rest_framework.test import APIClient

    settings.THROTTLE_AUTH = "1000/min"
    settings.DATABASES["default"]["OPTIONS"]["pool"]["timeout"] = 30
    tokens = session_start(user=UserFactory(username="alice"))
    attempts = 20
    barrier = Barrier(attempts)

    def refresh(_):
        try:
            barrier.wait()
            body = {"refresh": tokens["refresh"]}
            return APIClient().post("/api/v1/auth/refresh", body, format="json").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(attempts) as pool:
        codes = list(pool.map(refresh, range(attempts)))
    assert sorted(codes) == [200] + [401] * (attempts - 1)


@pytest.mark.django_db
class TestAccessTokens:
    def test_an_expired_access_token_is_401(self, api, alice):
        tokens = session_start(user=alice)
        token = AccessToken(tokens["access"])
        token.set_exp(from_time=timezone.now() - timedelta(hours=1))
        assert me_status(api, str(token)) == 401

    def test_a_token_of_an_ended_session_is_401(self, api, alice, client_for):
        client = client_for(alice)
        client.post("/api/v1/auth/logout", {"refresh": client.tokens["refresh"]}, format="json")
        assert client.get("/api/v1/users/me").status_code == 401

    def test_a_refresh_token_is_not_an_access_token(self, api, alice):
        assert me_status(api, session_start(user=alice)["refresh"]) == 401

    def test_no_token_is_401(self, api):
        assert api.get("/api/v1/users/me").status_code == 401


@pytest.mark.django_db
class TestLogout:
    def logout(self, client, refresh):
        return client.post("/api/v1/auth/logout", {"refresh": refresh}, format="json")

    def test_it_ends_only_that_session(self, api, alice, client_for):
        client, other = client_for(alice), client_for(alice)
        assert self.logout(client, client.tokens["refresh"]).status_code == 204
        assert client.get("/api/v1/users/me").status_code == 401
        assert other.get("/api/v1/users/me").status_code == 200

    def test_another_users_refresh_is_400(self, alice, bob, client_for):
        client, bobs = client_for(alice), client_for(bob)
        assert self.logout(client, bobs.tokens["refresh"]).status_code == 400
        assert bobs.get("/api/v1/users/me").status_code == 200

    def test_an_already_spent_refresh_is_204(self, api, alice, client_for):
        client = client_for(alice)
        fresh = api.post(
            "/api/v1/auth/refresh", {"refresh": client.tokens["refresh"]}, format="json"
        ).json()
        bearer(client, fresh["access"])
        assert self.logout(client, client.tokens["refresh"]).status_code == 204
        assert client.get("/api/v1/users/me").status_code == 200

    def test_a_garbage_token_is_400(self, alice, client_for):
        assert self.logout(client_for(alice), "garbage").status_code == 400

    def test_it_needs_authentication(self, api, alice):
        tokens = session_start(user=alice)
        assert self.logout(api, tokens["refresh"]).status_code == 401


@pytest.mark.django_db
class TestRecover:
    @pytest.fixture
    def dora(self, api):
        return register(api, security_phrase=PHRASE).json()

    def recover(self, api, **fields):
        body = {
            "username": "dora",
            "security_phrase": PHRASE,
            "new_password": NEW_PASSWORD,
        }
        return api.post("/api/v1/auth/recover", {**body, **fields}, format="json")

    def test_it_sets_the_new_password_and_ends_every_session(self, api, dora):
        assert self.recover(api).status_code == 204
        assert me_status(api, dora["access"]) == 401
        api.credentials()
        assert (
            api.post(
                "/api/v1/auth/refresh", {"refresh": dora["refresh"]}, format="json"
            ).status_code
            == 401
        )
        login = {"username": "DORA", "password": NEW_PASSWORD}
        assert api.post("/api/v1/auth/login", login, format="json").status_code == 200

    def test_wrong_phrase_and_unknown_user_get_one_generic_400(self, api, dora):
        wrong_phrase = self.recover(api, security_phrase="the owl sleeps")
        unknown_user = self.recover(api, username="nobody")
        assert wrong_phrase.status_code == unknown_user.status_code == 400
        assert wrong_phrase.json() == unknown_user.json()
        assert set(wrong_phrase.json()) == {"detail"}
        assert me_status(api, dora["access"]) == 200

    @pytest.mark.parametrize(
        ("username", "phrase"),
        [("eve", "not her phrase"), ("plain", PHRASE), ("gone", PHRASE)],
        ids=["wrong phrase", "no phrase", "deactivated"],
    )
    def test_a_refusal_answers_and_hashes_as_for_an_unknown_user(
        self, api, counting_hasher, username, phrase
    ):
        UserFactory(username="eve", security_phrase=make_password(PHRASE))
        UserFactory(username="plain", security_phrase="")
        UserFactory(username="gone", security_phrase=make_password(PHRASE), is_active=False)
        counting_hasher.take()
        refused = answer(self.recover(api, username=username, security_phrase=phrase))
        refused_hashes = counting_hasher.take()
        unknown = answer(self.recover(api, username="nobody", security_phrase=phrase))
        assert refused == unknown
        assert refused[0] == 400
        assert refused_hashes == counting_hasher.take() == 1

    def test_the_new_password_is_validated_after_the_phrase(self, api, dora):
        weak = self.recover(api, new_password="12345678")
        assert weak.status_code == 400
        assert "new_password" in weak.json()
        generic = self.recover(api, security_phrase="wrong phrase!", new_password="12345678")
        assert set(generic.json()) == {"detail"}


@pytest.mark.django_db
class TestPasswordChange:
    def change(self, client, old=TEST_PASSWORD, new=NEW_PASSWORD):
        body = {"old_password": old, "new_password": new}
        return client.post("/api/v1/auth/password", body, format="json")

    def test_it_returns_a_new_pair_and_ends_every_other_session(self, api, alice, client_for):
        client, other = client_for(alice), client_for(alice)
        response = self.change(client)
        assert response.status_code == 200
        assert set(response.json()) == {"access", "refresh"}
        assert client.get("/api/v1/users/me").status_code == 401
        assert other.get("/api/v1/users/me").status_code == 401
        assert me_status(api, response.json()["access"]) == 200
        alice.refresh_from_db()
        assert alice.check_password(NEW_PASSWORD)

    def test_a_wrong_old_password_is_400(self, alice, client_for):
        client = client_for(alice)
        response = self.change(client, old="not-the-password")
        assert response.status_code == 400
        assert "old_password" in response.json()
        assert client.get("/api/v1/users/me").status_code == 200

    def test_a_weak_new_password_is_400(self, alice, client_for):
        response = self.change(client_for(alice), new="password")
        assert response.status_code == 400
        assert "new_password" in response.json()


def test_error_bodies_are_json(api, db):
    response = api.post("/api/v1/auth/login", {"username": "x", "password": "y"}, format="json")
    assert json.loads(response.content) == {"detail": response.json()["detail"]}
    assert response["WWW-Authenticate"].startswith("Bearer")
