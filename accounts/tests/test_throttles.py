import pytest

from accounts.tests.factories import TEST_PASSWORD

LOGIN = {"username": "alice", "password": TEST_PASSWORD}
# Each endpoint under THROTTLE_AUTH, with a body it answers quickly (the answer does not
# matter: every request counts, accepted or refused).
AUTH_ENDPOINTS = [
    ("/api/v1/auth/login", LOGIN),
    ("/api/v1/auth/register", {}),
    ("/api/v1/auth/refresh", {"refresh": "x"}),
    ("/api/v1/auth/recover", {}),
]


@pytest.fixture
def three_per_minute(settings):
    settings.THROTTLE_AUTH = "3/min"


def login(api, **headers):
    return api.post("/api/v1/auth/login", LOGIN, format="json", **headers)


def assert_throttled(response):
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize(("path", "body"), AUTH_ENDPOINTS)
def test_it_answers_429_with_retry_after_over_the_rate(api, alice, three_per_minute, path, body):
    assert all(api.post(path, body, format="json").status_code != 429 for _ in range(3))
    assert_throttled(api.post(path, body, format="json"))


@pytest.mark.parametrize(("path", "body"), AUTH_ENDPOINTS)
def test_a_forged_forwarded_for_does_not_reset_it(api, alice, three_per_minute, path, body):
    for index in range(3):
        api.post(path, body, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{index}")
    assert_throttled(api.post(path, body, format="json", HTTP_X_FORWARDED_FOR="10.9.9.9"))


def test_behind_a_trusted_proxy_only_the_address_it_appends_counts(
    api, alice, three_per_minute, settings
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for index in range(3):  # the client forges the first entry; the proxy appends its peer
        login(api, HTTP_X_FORWARDED_FOR=f"10.0.0.{index}, 198.51.100.7")
    assert_throttled(login(api, HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.7"))
    assert login(api, HTTP_X_FORWARDED_FOR="10.0.0.1, 198.51.100.8").status_code == 200


def test_other_addresses_have_their_own_allowance(api, alice, three_per_minute):
    for _ in range(3):
        login(api)
    assert login(api, REMOTE_ADDR="192.0.2.7").status_code == 200


@pytest.mark.parametrize(("path", "body"), AUTH_ENDPOINTS[1:])
def test_register_refresh_and_recover_share_the_limit(api, alice, three_per_minute, path, body):
    for _ in range(3):
        login(api)
    assert_throttled(api.post(path, body, format="json"))


def test_an_unreachable_cache_lets_requests_through(api, alice, settings, three_per_minute):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
        }
    }
    assert [login(api).status_code for _ in range(5)] == [200] * 5


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/auth/password", {"old_password": "wrong", "new_password": "x" * 20}),
        (
            "put",
            "/api/v1/users/me/security-phrase",
            {"password": "wrong", "security_phrase": "p" * 9},
        ),
        ("delete", "/api/v1/users/me", {"password": "wrong"}),
    ],
)
def test_checks_of_a_signed_in_users_password_are_limited_per_user(
    alice, client_for, three_per_minute, method, path, body
):
    """A stolen access token is no unlimited password oracle (nor a way to burn Argon2)."""
    api = client_for(alice)
    for index in range(3):
        response = getattr(api, method)(path, body, format="json", REMOTE_ADDR=f"10.0.0.{index}")
        assert response.status_code == 400
    assert_throttled(getattr(api, method)(path, body, format="json", REMOTE_ADDR="10.9.9.9"))
    assert api.get("/api/v1/users/me").status_code == 200
    assert api.patch("/api/v1/users/me", {"bio": "still free"}, format="json").status_code == 200


def test_the_admin_login_counts_against_the_same_limit(api, alice, three_per_minute):
    wrong = {"username": "alice", "password": "not-her-password"}
    for index in range(2):
        response = api.post("/admin/login/", wrong, HTTP_X_FORWARDED_FOR=f"10.0.0.{index}")
        assert response.status_code == 200  # the form again, with its error
    login(api)
    refused = api.post("/admin/login/", wrong, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert api.get("/admin/login/").status_code == 200  # the page itself still shows
