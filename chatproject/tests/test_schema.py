"""The OpenAPI schema describes the answers the service really gives, errors included
(test_fuzz_api.py checks every operation against it with generated requests)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def paths(api):
    response = api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()["paths"]


def statuses(paths, path, method) -> set[str]:
    return set(paths[path][method]["responses"])


def test_every_operation_documents_invalid_input_and_a_dependency_down(paths):
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert {"400", "413", "503"} <= set(operation["responses"]), (method, path)


def test_authenticated_operations_document_401_and_403(paths):
    assert {"401", "403"} <= statuses(paths, "/api/v1/chats", "get")
    assert "401" not in statuses(paths, "/api/v1/info", "get")
    assert "401" in statuses(paths, "/api/v1/auth/login", "post")  # wrong credentials


def test_ids_in_the_path_document_404(paths):
    assert "404" in statuses(paths, "/api/v1/chats/{chat_id}", "get")
    assert "404" not in statuses(paths, "/api/v1/users/me", "get")


def test_throttled_operations_document_429_with_retry_after(paths):
    for path in ["/api/v1/auth/login", "/api/v1/chats/{chat_id}/messages"]:
        answer = paths[path]["post"]["responses"]["429"]
        assert "Retry-After" in answer["headers"], path


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/chats/{chat_id}/messages", "post"),
        ("/api/v1/messages/{message_id}", "patch"),
        ("/api/v1/messages/{message_id}/reactions", "post"),
        ("/api/v1/messages/{message_id}/reactions", "delete"),
        ("/api/v1/messages/{message_id}/report", "post"),
    ],
)
def test_acting_on_a_deleted_message_documents_409(paths, path, method):
    assert "409" in statuses(paths, path, method)


def test_errors_are_documented_as_json_objects(paths):
    answer = paths["/api/v1/chats/{chat_id}"]["get"]["responses"]["404"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_removing_a_group_avatar_documents_the_chat_it_answers_with(paths):
    """drf-spectacular turns a DELETE into a 204 unless the status is given explicitly."""
    answers = paths["/api/v1/chats/{chat_id}/avatar"]["delete"]["responses"]
    assert "204" not in answers
    assert answers["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ChatDetail"
    }
