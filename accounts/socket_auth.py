"""WebSocket authentication: the access token from `?token=` or the `bearer` subprotocol.

Sets `scope["user"]` (AnonymousUser when the token is missing, bad, expired or its session
ended) and `scope["sid"]`; the consumer accepts and closes an anonymous socket with 4401.
"""

from urllib.parse import parse_qs

from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import user_for_access_token
from chatproject.database import database_call

BEARER_SUBPROTOCOL = "bearer"


def token_from_scope(scope) -> tuple[str | None, bool]:
    """(token, sent as subprotocol?) — the subprotocol form keeps the token out of URLs."""
    protocols = scope.get("subprotocols") or []
    if len(protocols) == 2 and protocols[0] == BEARER_SUBPROTOCOL:
        return protocols[1], True
    tokens = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return (tokens[0] if tokens else None), False


@database_call
def authenticate(raw_token: str | None):
    if not raw_token:
        return AnonymousUser(), None
    try:
        token = AccessToken(raw_token)
        return user_for_access_token(token), token["sid"]
    except (TokenError, AuthenticationFailed, KeyError):
        return AnonymousUser(), None


class SocketTokenAuthMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        raw_token, as_subprotocol = token_from_scope(scope)
        user, sid = await authenticate(raw_token)
        scope = dict(scope, user=user, sid=sid, bearer_subprotocol=as_subprotocol)
        return await self.app(scope, receive, send)
