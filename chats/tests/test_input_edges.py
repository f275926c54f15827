"""Input that only a hand-made request or a caller other than the REST views can send."""

import uuid
from base64 import urlsafe_b64encode

import pytest
from django.core.exceptions import ValidationError

from chats import services

pytestmark = pytest.mark.django_db


def test_a_chat_cursor_without_a_timezone_is_400(alice, client_for):
    cursor = urlsafe_b64encode(f"2025-01-01T00:00:00|{uuid.uuid4()}".encode()).decode()
    response = client_for(alice).get("/api/v1/chats", {"before": cursor})
    assert response.status_code == 400
    assert response.json() == {"before": ["Not a valid cursor."]}


def test_services_refuse_a_member_id_that_is_not_a_uuid(alice):
    """Admin actions and commands call the services without a serializer in front."""
    with pytest.raises(ValidationError) as refused:
        services.group_create(creator=alice, name="Team", member_ids=["not-a-uuid"])
    assert refused.value.message_dict == {"member_ids": ["Not a valid user id."]}
