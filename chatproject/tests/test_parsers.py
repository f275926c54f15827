import pytest

from messaging.tests.factories import group_chat

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/chats"),  # the default parsers
        ("patch", "/api/v1/users/me"),  # accounts' JSON-only views
        ("post", "/api/v1/chats/{chat_id}/messages"),  # JSON or multipart
    ],
)
def test_json_nested_too_deep_is_a_400_not_a_500(method, path, alice, bob, client_for):
    path = path.format(chat_id=group_chat(alice, bob).pk)
    body = '{"content": ' + DEEP + "}"

    response = getattr(client_for(alice), method)(path, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - nested too deeply."}
