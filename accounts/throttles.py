import logging

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class AuthRateThrottle(SimpleRateThrottle):
    """THROTTLE_AUTH per client address, for register, login, recover and refresh.

    The address is DRF's `get_ident` under NUM_PROXIES (TRUSTED_PROXY_COUNT), so with no
    trusted proxy it is the socket address and a forged X-Forwarded-For changes nothing.
    A cache that is down lets requests through: a throttle must not take logins down too.
    """

    scope = "auth"

    def get_rate(self):
        return settings.THROTTLE_AUTH

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.warning("throttle cache unavailable; letting the request through")
            return True


class PasswordCheckThrottle(AuthRateThrottle):
    """THROTTLE_AUTH per signed-in user, for the endpoints that check the caller's password
    (password change, security phrase, account deletion): a stolen access token must not be
    an unlimited password oracle, nor a way to make the server run Argon2 at will."""

    scope = "password-check"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
