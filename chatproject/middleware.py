"""Cross-cutting HTTP behaviour: body size limits, a dependency that is down, CSP, and
responses freed with their request."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

logger = logging.getLogger(__name__)

# Form fields beside a file (caption, client_id, reply_to) and multipart framing.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# A pool timeout (psycopg_pool.PoolTimeout, a psycopg OperationalError) is one of these too:
# Django wraps the errors of opening a connection like those of a query.
DATABASE_DOWN_ERRORS = (OperationalError, InterfaceError)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def service_unavailable() -> JsonResponse:
    response = JsonResponse({"detail": "A service the API depends on is unavailable."}, status=503)
    response["Retry-After"] = "5"
    return response


def body_limit(content_type: str) -> int:
    if content_type.startswith("multipart/"):
        return settings.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class RequestGuardMiddleware:
    """413 for a body over its limit before anything parses it; 503 when the database is down.

    Django's own errors for these are a 400 (body too big) and a 500 (database).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length."}, status=400)
        if length > body_limit(request.META.get("CONTENT_TYPE", "")):
            return JsonResponse({"detail": "Request body too large."}, status=413)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_DOWN_ERRORS):
            logger.warning("database unavailable: %s", exception)
            return service_unavailable()
        return None


class OptionalSlashMiddleware:
    """Every API path answers with and without a trailing slash, without a redirect.

    URL patterns are written without the slash; this drops it before resolving. The admin
    keeps Django's own slash handling.
    """

    SLASHLESS_PREFIXES = ("/api/", "/health", "/files/", "/docs", "/redoc")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if len(path) > 1 and path.endswith("/") and path.startswith(self.SLASHLESS_PREFIXES):
            request.path_info = path.rstrip("/")
        return self.get_response(request)


class ResponseCycleMiddleware:
    """Frees a REST response's data with the response, not at the cyclic collector's next run.

    DRF's response refers to itself and to its view through `renderer_context`, and the view
    refers back (`view.response`) and sits in cycles with its request. So each response, and
    the data it was rendered from (a page of 100 chats is ~350 dicts and lists, a `sync` of
    500 chats 1,000 objects), outlived the request until a collection found it, and those
    collections landed on whichever request was running. Once Django has rendered the
    response, nothing needs these references.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        context = getattr(response, "renderer_context", None)
        if context:
            if context.get("view") is not None:
                context["view"].response = None
            response.renderer_context = None
        return response


# Swagger UI and ReDoc (served from the sidecar's static files) inject <style> elements,
# and ReDoc runs its search in a worker made from a blob.
DOCS_CONTENT_SECURITY_POLICY = (
    CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    + "; worker-src 'self' blob:; font-src 'self' data:"
)
DOCS_PATHS = ("/docs", "/redoc")


class ContentSecurityPolicyMiddleware:
    """A strict CSP for the pages the service renders (the client, the admin, the docs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            is_docs = request.path_info.rstrip("/") in DOCS_PATHS
            policy = DOCS_CONTENT_SECURITY_POLICY if is_docs else CONTENT_SECURITY_POLICY
            response.setdefault("Content-Security-Policy", policy)
        return response
