"""REST responses and socket events are written by orjson exactly as DRF's renderer writes."""

import datetime
import decimal
import json
import uuid

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers

from chatproject.renderers import JSONRenderer
from messaging.realtime import to_json

AWKWARD = {
    "at": datetime.datetime(2026, 11, 24, 2, 5, 0, 123456, tzinfo=datetime.UTC),
    "day": datetime.date(2026, 11, 24),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "lazy": gettext_lazy("This field is required."),
    "amount": decimal.Decimal("1.5"),
    "errors by index": {0: ["Must be a valid UUID."], 3: ["Not found."]},
    "text": "é ✓ 👍 \u2028",
    "nested": [{"a": None, "b": True, "c": 2**63 - 1}],
}


@pytest.mark.parametrize("data", [AWKWARD, [AWKWARD], {"big": 2**70}], ids=["dict", "list", "big"])
def test_it_writes_what_drfs_renderer_writes(data):
    ours, drfs = JSONRenderer().render(data), renderers.JSONRenderer().render(data)
    assert json.loads(ours) == json.loads(drfs)


def test_a_socket_event_writes_times_as_rest_does():
    event = {"type": "presence", "last_seen": AWKWARD["at"]}
    assert json.loads(to_json(event))["last_seen"] == "2026-11-24T02:05:00.123456Z"


def test_a_client_asking_for_indent_gets_it(alice, client_for):
    response = client_for(alice).get("/api/v1/users/me", HTTP_ACCEPT="application/json; indent=2")
    assert response.status_code == 200
    assert response.content.startswith(b'{\n  "')
