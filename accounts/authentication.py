from django.core.exceptions import ValidationError
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts.models import Session, User


def user_for_access_token(validated_token) -> User:
    """The user of a valid access token whose session is still open, in one query."""
    try:
        session = Session.objects.select_related("user").get(
            sid=validated_token["sid"], ended_at__isnull=True
        )
    except (KeyError, Session.DoesNotExist, ValueError, ValidationError):
        raise AuthenticationFailed("Session has ended.", code="session_ended")
    user = session.user
    if str(user.pk) != str(validated_token.get("user_id")) or not user.is_active:
        raise AuthenticationFailed("Session has ended.", code="session_ended")
    return user


class SessionJWTAuthentication(JWTAuthentication):
    """simplejwt's Bearer authentication, plus: the token's session (`sid`) must be open."""

    def get_user(self, validated_token):
        # Only access tokens get here: simplejwt validates with AUTH_TOKEN_CLASSES (AccessToken).
        return user_for_access_token(validated_token)


class SessionJWTScheme(SimpleJWTScheme):
    """Describes the Bearer scheme in the OpenAPI schema (registered by being defined)."""

    target_class = SessionJWTAuthentication
