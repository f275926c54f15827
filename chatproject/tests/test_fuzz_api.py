"""Schemathesis fuzzes every operation of the service's own OpenAPI schema (/api/schema).

Each operation gets FUZZ_API_EXAMPLES generated requests in each mode: `positive` (data the
schema allows) and `negative` (data it forbids: wrong types, bad formats, missing fields).
Requests carry a real user's Bearer token, and about half of them name that user's real
chat, message and fellow member in the path, so they reach the code past the 404. Every
answer must be no 5xx, a documented status, the documented media type, a body that matches
its schema, and the documented headers.

With FUZZ_API_LIVE=1 (PostgreSQL and Redis needed) the requests go over HTTP to a live
daphne instead, whose log must then hold no traceback.

    .venv/bin/pytest chatproject/tests/test_fuzz_api.py                       # CI: bounded
    FUZZ_API_EXAMPLES=75 .venv/bin/pytest chatproject/tests/test_fuzz_api.py  # full: 5,000+
    FUZZ_API_LIVE=1 FUZZ_API_EXAMPLES=75 .venv/bin/pytest chatproject/tests/test_fuzz_api.py
"""

import os
from collections import Counter

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import session_start
from chatproject.testing import DaphneProcess, print_figure, server_env
from messaging.tests.factories import group_chat, send

EXAMPLES = int(os.environ.get("FUZZ_API_EXAMPLES", "8"))
LIVE = os.environ.get("FUZZ_API_LIVE") == "1"
LIFTED_LIMITS = {"THROTTLE_AUTH": "1000000/min", "THROTTLE_SEND": "1000000/min"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# The service runs on daphne (ASGI); in-process the same Django stack answers through WSGI,
# in the test's thread, so it sees the test's database and the fixtures below.
schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


def takes_input(operation) -> bool:
    """Whether anything of a request to `operation` can be invalid (the token counts)."""
    parts = (operation.path_parameters, operation.query, operation.headers, operation.body)
    return any(len(part) for part in parts)


# Positive for every operation, negative for those with an input to get wrong.
CASES = [
    pytest.param(operation, mode, id=f"{operation.label}-{mode.value}")
    for operation in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or takes_input(operation)
]
sent = Counter()

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def lifted_limits(settings):
    """Throttles would answer most fuzzed requests with 429 and hide the code behind them."""
    for name, value in LIFTED_LIMITS.items():
        setattr(settings, name, value)


@pytest.fixture(scope="module")
def target(django_db_setup):
    """(the schema to fuzz, where to send its requests): in-process, or a live daphne."""
    if not LIVE:
        yield schema, {}
        return
    server = DaphneProcess(server_env(**LIFTED_LIMITS)).start()
    try:
        yield (
            schemathesis.openapi.from_url(f"{server.http_url}/api/schema"),
            {"base_url": server.http_url},
        )
    finally:
        log = server.stop()
    assert "Traceback" not in log, log[-5000:]


@pytest.fixture
def real_ids(alice, bob, charlie):
    """Objects that Alice can see: her group (she is its admin), Bob in it, two messages."""
    chat = group_chat(alice, bob, charlie)
    own = send(chat, alice, "hello from alice")
    send(chat, bob, "a reply", reply_to_id=own.pk)
    return {"chat_id": str(chat.pk), "user_id": str(bob.pk), "message_id": own.pk}


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    yield
    if not sent:
        return
    by_class = ", ".join(f"{name}: {count}" for name, count in sorted(sent.items()))
    line = f"fuzz_api: {sent.total()} requests over {len(OPERATIONS)} operations ({by_class})"
    print_figure(request.config, line)


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_operation_answers_as_its_schema_says(operation, mode, target, alice, real_ids):
    fuzzed_schema, call = target
    operation = fuzzed_schema[operation.path][operation.method.upper()]
    headers = {"Authorization": f"Bearer {session_start(user=alice)['access']}"}

    @given(case=operation.as_strategy(generation_mode=mode), real_path=st.booleans())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case, real_path):
        if real_path:
            for name in case.path_parameters or {}:
                case.path_parameters[name] = real_ids.get(name, case.path_parameters[name])
        response = case.call(headers=headers, **call)
        sent[f"{response.status_code // 100}xx"] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    fuzz()
