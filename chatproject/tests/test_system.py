import re

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_health_reports_every_dependency(api):
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


def test_health_is_503_naming_a_channel_layer_that_is_down(api, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:9/0"}]},
        }
    }
    response = api.get("/health/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "channel_layer": "down",
    }


def test_health_live_answers_while_the_process_runs(api, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:9/0"}]},
        }
    }
    assert api.get("/health/live").status_code == 200


def test_info_reports_limits_and_token_lifetimes(api, settings):
    body = api.get("/api/v1/info").json()
    assert set(body) == {"name", "version", "limits", "tokens"}
    assert body["limits"] == {
        "message_length": 10_000,
        "group_members": 100,
        "upload_bytes": settings.MAX_UPLOAD_BYTES,
        "avatar_bytes": settings.MAX_AVATAR_BYTES,
        "frame_bytes": 128 * 1024,
    }
    assert body["tokens"] == {
        "access_seconds": settings.ACCESS_TOKEN_MINUTES * 60,
        "refresh_seconds": settings.REFRESH_TOKEN_DAYS * 86400,
    }


def test_the_schema_describes_the_accounts_endpoints(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/auth/login", "/api/v1/users/me", "/api/v1/users/{user_id}"} <= set(paths)


@pytest.mark.parametrize("page", ["/docs", "/redoc/"])
def test_the_docs_are_served_offline(api, page):
    response = api.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "googleapis" not in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    for source in sources:
        assert source.startswith("/"), source
        assert api.get(source).status_code == 200, source
    assert "default-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/chats/not-a-uuid", "/api/v1/messages/1x", "/api/v2/"])
def test_an_unknown_api_path_is_a_json_404(path, method):
    response = APIClient(enforce_csrf_checks=True).generic(method.upper(), path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
