"""The WebSocket handshake's Origin check.

No Origin (apps, scripts) is accepted; a browser Origin must be listed in
CSRF_TRUSTED_ORIGINS or CORS_ALLOWED_ORIGINS, or its host must be one of ALLOWED_HOSTS
exactly (the port is not compared). Unlike Django's host check, a leading-dot entry does
not admit every subdomain here: any page on such a subdomain could otherwise open sockets
with a victim's token.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings


def origin_allowed(origin: str) -> bool:
    if origin in settings.CSRF_TRUSTED_ORIGINS or origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    host = urlsplit(origin).hostname
    hosts = {h.lower() for h in settings.ALLOWED_HOSTS if not h.startswith(".")}
    return host is not None and (host in hosts or f"[{host}]" in hosts or "*" in hosts)


class OriginCheckMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        origin = dict(scope.get("headers", [])).get(b"origin")
        if origin is not None and not origin_allowed(origin.decode("latin-1")):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)
