import pytest


def test_a_json_body_over_the_limit_is_413_before_parsing(api, settings):
    body = '{"username": "%s"}' % ("x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    response = api.post("/api/v1/auth/login", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large."}


def test_a_multipart_body_over_the_upload_limit_is_413(api, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MAX_UPLOAD_BYTES = 1024
    big = SimpleUploadedFile("big.bin", b"x" * (200 * 1024))
    response = api.put("/api/v1/users/me/avatar", {"avatar": big}, format="multipart")
    assert response.status_code == 413


def test_a_bad_content_length_is_400(api):
    response = api.post(
        "/api/v1/auth/login", "{}", content_type="application/json", CONTENT_LENGTH="many"
    )
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/health/", "/api/v1/info", "/api/v1/info/"])
def test_the_trailing_slash_is_optional_without_a_redirect(api, path):
    assert api.get(path).status_code == 200


def test_pages_get_a_strict_content_security_policy(client, db):
    policy = client.get("/admin/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_a_host_not_allowed_is_400_and_one_log_line(client, caplog):
    response = client.get("/health", HTTP_HOST="evil.example")
    assert response.status_code == 400
    (record,) = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert "'evil.example'" in record.getMessage()
    assert record.exc_info is None


@pytest.mark.django_db(transaction=True)
async def test_a_response_and_its_data_go_with_the_request_not_to_the_cyclic_collector(
    alice, bob, monkeypatch
):
    """Through Django's ASGI handler, as daphne calls it (the test client keeps each
    response in a cycle of its own), on a request thread that ends with the request (a kept
    one would keep this test's database connection for the next test)."""
    from asgiref.sync import sync_to_async
    from channels.testing import HttpCommunicator

    from accounts.services import session_start
    from chatproject.database import PooledASGIHandler, RequestThreads
    from chatproject.tests.collector import left_for_the_collector
    from messaging.tests.factories import group_chat

    for n in range(5):
        await sync_to_async(group_chat)(alice, bob, name=f"G{n}")
    token = (await sync_to_async(session_start)(user=alice))["access"]
    headers = [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())]
    handler = PooledASGIHandler()
    monkeypatch.setattr(handler, "threads", RequestThreads(kept=0))

    with left_for_the_collector() as left:
        communicator = HttpCommunicator(handler, "GET", "/api/v1/chats/sync", headers=headers)
        response = await communicator.get_response(timeout=20)
        await communicator.wait(timeout=20)

    assert response["status"] == 200
    assert [o for o in left if isinstance(o, dict) and "last_read_seq" in o] == []
