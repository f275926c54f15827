"""All configuration, read from environment variables with safe defaults.

Unset `DATABASE_URL` and `REDIS_URL` give the embedded default (a SQLite file and the
in-memory channel layer) for trying the service out; production sets both. README.md lists
every variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Core -----------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not DEBUG and "*" in ALLOWED_HOSTS:
    # The WebSocket origin check trusts ALLOWED_HOSTS: "*" would admit every site's pages.
    raise ImproperlyConfigured("ALLOWED_HOSTS may not contain '*' when DEBUG=0.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/(api|files)/.*$"

INSTALLED_APPS = [
    "daphne",
    "accounts.admin_site.ThrottledAdminConfig",  # django.contrib.admin, login throttled
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "chats",
    "messaging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so static files are not framable either.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "chatproject.middleware.RequestGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "chatproject.middleware.ContentSecurityPolicyMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Sync only, and last: so Django runs the whole chain in one thread. Async-capable
    # middleware innermost would run in async mode and hop to a thread for each of their
    # process_request/process_response (a dozen hops, ~5 ms per request).
    "chatproject.middleware.ResponseCycleMiddleware",
    "chatproject.middleware.OptionalSlashMiddleware",
]

ROOT_URLCONF = "chatproject.urls"
ASGI_APPLICATION = "chatproject.asgi.application"
WSGI_APPLICATION = None
APPEND_SLASH = False  # every API path answers with and without a slash (see urls.py)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
# Connections per process; also the number of threads that run the sockets' database work
# (chatproject/database.py).
DB_POOL_MAX = env_int("DB_POOL_MAX", 4)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, its timestamps parsed by psycopg's compiled loader (see there).
        DATABASES["default"]["ENGINE"] = "chatproject.postgresql"
        # Django's psycopg pool, small per process; a pool timeout surfaces as 503 (see
        # chatproject/middleware.py), never as a request that hangs.
        DATABASES["default"]["OPTIONS"] = {
            "pool": {
                "min_size": env_int("DB_POOL_MIN", 1),
                "max_size": DB_POOL_MAX,
                "timeout": env_int("DB_POOL_TIMEOUT", 4),
            },
            "connect_timeout": 3,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            # IMMEDIATE transactions, a busy timeout and WAL make concurrent writers wait
            # for each other instead of failing with "database is locked".
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache (throttles), presence -------------------------------------
REDIS_URL = env_str("REDIS_URL")
# Namespaces channel-layer channels and keys, so deployments (or test runs) can share a Redis.
REDIS_PREFIX = env_str("REDIS_PREFIX", "chat")
REDIS_SOCKET_TIMEOUT = float(env_str("REDIS_SOCKET_TIMEOUT", "5"))
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # One PUBLISH per group_send whatever the group's size (bench/fanout measures it).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # Bounded: a black-holed Redis must not hang a publish, and redis-py 8
                        # closes idle pub/sub sockets without one (channels_redis#422).
                        "socket_timeout": REDIS_SOCKET_TIMEOUT,
                        "socket_connect_timeout": 2,
                        "socket_keepalive": True,
                        "health_check_interval": 10,
                        # A connection Redis dropped (a restart) fails its next command once
                        # unless retried: that publish would be lost after the `resync`.
                        "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
                    }
                ],
                "prefix": REDIS_PREFIX,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            # One channel receives for all of the process' sockets (messaging/local_groups.py):
            # it must not fill up at 100 messages nor drop out of its groups after a day.
            "CONFIG": {"capacity": 100_000, "group_expiry": 10 * 365 * 24 * 3600},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Presence (accounts/presence.py): sockets refresh every HEARTBEAT with a TTL lifetime; a
# user whose last socket closed goes offline after GRACE unless one came back.
PRESENCE_TTL_SECONDS = env_int("PRESENCE_TTL_SECONDS", 60)
PRESENCE_HEARTBEAT_SECONDS = env_int("PRESENCE_HEARTBEAT_SECONDS", 20)
PRESENCE_GRACE_SECONDS = float(env_str("PRESENCE_GRACE_SECONDS", "5"))

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCESS_TOKEN_MINUTES = env_int("ACCESS_TOKEN_MINUTES", 15)
REFRESH_TOKEN_DAYS = env_int("REFRESH_TOKEN_DAYS", 7)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=ACCESS_TOKEN_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=REFRESH_TOKEN_DAYS),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

# --- REST framework -------------------------------------------------------------------------
THROTTLE_AUTH = env_str("THROTTLE_AUTH", "20/min")
THROTTLE_SEND = env_str("THROTTLE_SEND", "60/min")
SOCKET_FRAME_RATE = env_str("SOCKET_FRAME_RATE", "20/s")
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.SessionJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["chatproject.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "chatproject.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "chatproject.schema.AutoSchema",
    "EXCEPTION_HANDLER": "chatproject.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": THROTTLE_AUTH, "send": THROTTLE_SEND},
    # 0 = the socket address: a forged X-Forwarded-For never resets a throttle.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Chat service API",
    "DESCRIPTION": "REST API of the chat service. The WebSocket protocol is in README.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `type` choice: name each set after its model.
    "ENUM_NAME_OVERRIDES": {
        "MessageTypeEnum": "messaging.models.Message.Type",
        "ChatTypeEnum": "chats.models.Chat.Type",
        "RoleEnum": "chats.models.Membership.Role",
    },
}

# --- Files ----------------------------------------------------------------------------------
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 25 * 1024 * 1024)
MAX_AVATAR_BYTES = env_int("MAX_AVATAR_BYTES", 5 * 1024 * 1024)
FILE_URL_TTL = env_int("FILE_URL_TTL", 3600)
# Multipart bodies may be as large as an upload plus its form fields; JSON bodies stay small.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "chatproject" / "static"]
# The service serves its own static files (admin, API docs, the client) even with DEBUG=0,
# straight from the apps without a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Limits of the API ----------------------------------------------------------------------
MESSAGE_MAX_LENGTH = 10_000
GROUP_MAX_MEMBERS = 100
SOCKET_FRAME_BYTES = 128 * 1024
SOCKET_FRAME_HARD_BYTES = 1024 * 1024
# `manage.py purge` keeps resolved reports of deleted messages this many days.
PURGE_RETENTION_DAYS = env_int("PURGE_RETENTION_DAYS", 30)

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# Preloading commits the whole domain and its subdomains to HTTPS for browsers' lifetime:
# the operator opts in (check --deploy warns of it, README.md says why).
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Load balancers that end TLS probe these over plain HTTP and want a 200, not a redirect.
SECURE_REDIRECT_EXEMPT = [r"^health(/live)?/?$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True


def without_traceback(record) -> bool:
    """A logging filter: the record's message alone. Django logs a request for a Host not in
    ALLOWED_HOSTS with the traceback of DisallowedHost, dozens of lines per scanner's probe;
    the one line still names the host, which is what an operator needs."""
    record.exc_info = record.exc_text = None
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"without_traceback": {"()": lambda: without_traceback}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "django.security.DisallowedHost": {"filters": ["without_traceback"]},
    },
}
