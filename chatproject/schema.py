"""The OpenAPI schema documents the errors each operation can answer with, not only success.

drf-spectacular describes the success responses a view declares. The error statuses below
come from layers every view shares (the middleware, authentication, permissions, throttles,
the URL converters), so they are added here from what the view is, and a view declares
only its own special cases (a 409, a throttle it checks itself) with `extend_schema`.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

ERROR_BODY = inline_serializer(
    "Error",
    {"detail": serializers.CharField(required=False)},
    help_text='`{"detail": "..."}`, or `{"<field>": ["..."]}` for invalid fields.',
)
ERROR_DESCRIPTIONS = {
    400: "Invalid input.",
    401: "Not authenticated, or the session ended.",
    403: "Not allowed.",
    404: "Absent, or not visible to the caller.",
    409: "The message was deleted, or this member already reported it.",
    413: "The body or file is over its limit.",
    415: "The body's media type is not accepted.",
    429: "Rate limited: retry after `Retry-After` seconds.",
    503: "A dependency is down: retry after `Retry-After` seconds.",
}


RETRY_AFTER_HEADER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
}


def error_response(status_code: int) -> OpenApiResponse:
    return OpenApiResponse(ERROR_BODY, description=ERROR_DESCRIPTIONS[status_code])


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status_code in sorted(self._error_statuses()):
            code = str(status_code)
            if code not in responses:
                responses[code] = self._get_response_for_code(error_response(status_code), code)
        for code in ("429", "503"):
            if code in responses:
                responses[code].setdefault("headers", {}).update(RETRY_AFTER_HEADER)
        return responses

    def _error_statuses(self) -> set[int]:
        """400 (validation, a bad Content-Length), 413 and 503 (RequestGuardMiddleware) are
        possible everywhere; the rest depend on the view and the operation's parameters."""
        statuses = {400, 413, 503}
        view = self.view
        if view.get_authenticate_header(view.request):
            statuses.add(401)
        if not all(isinstance(permission, AllowAny) for permission in view.get_permissions()):
            statuses.add(403)
        if "{" in self.path or (self.method == "GET" and self._get_parameters()):
            statuses.add(404)  # an id that is not visible, a page past the end
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.add(415)
        if view.get_throttles():
            statuses.add(429)
        return statuses
