"""HTTP goes to Django; WebSockets go through the origin check and token auth to the consumer."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application() does

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from accounts.socket_auth import SocketTokenAuthMiddleware  # noqa: E402
from chatproject.database import PooledASGIHandler  # noqa: E402
from chatproject.http_server import harden_daphne  # noqa: E402
from chatproject.origins import OriginCheckMiddleware  # noqa: E402
from messaging.consumers import ChatConsumer  # noqa: E402

http_application = PooledASGIHandler()
harden_daphne()
# What start-up loaded lives as long as the process: out of the collector's way, a full
# collection walks only what requests made since, not every module, model and URL pattern.
gc.freeze()
websocket_urlpatterns = [re_path(r"^ws/?$", ChatConsumer.as_asgi())]

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": OriginCheckMiddleware(
            SocketTokenAuthMiddleware(URLRouter(websocket_urlpatterns))
        ),
    }
)
