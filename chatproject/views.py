"""Views that belong to no app: the browser client, health checks and service info."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

SERVICE_VERSION = "1.0.0"


def client(request):
    return render(request, "client/index.html")


@csrf_exempt  # an unsafe method gets this 404 too, not the CSRF failure page
def api_not_found(request):
    """A path under /api/ that no route matches (an id that is not a UUID, say): JSON like
    every other API answer, not Django's HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)


def health_live(request):
    return JsonResponse({"status": "ok"})


def health(request):
    checks = {"database": _database_state(), "channel_layer": _channel_layer_state()}
    healthy = all(state == "ok" for state in checks.values())
    body = {"status": "ok" if healthy else "unavailable", **checks}
    return JsonResponse(body, status=200 if healthy else 503)


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        return "down"


def _channel_layer_state() -> str:
    try:
        async_to_sync(get_channel_layer().group_send)("health", {"type": "health.check"})
        return "ok"
    except Exception:
        return "down"


@extend_schema(
    responses=inline_serializer(
        "Info",
        {
            "name": serializers.CharField(),
            "version": serializers.CharField(),
            "limits": serializers.DictField(child=serializers.IntegerField()),
            "tokens": serializers.DictField(child=serializers.IntegerField()),
        },
    )
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def info(request):
    return Response(
        {
            "name": "chat",
            "version": SERVICE_VERSION,
            "limits": {
                "message_length": settings.MESSAGE_MAX_LENGTH,
                "group_members": settings.GROUP_MAX_MEMBERS,
                "upload_bytes": settings.MAX_UPLOAD_BYTES,
                "avatar_bytes": settings.MAX_AVATAR_BYTES,
                "frame_bytes": settings.SOCKET_FRAME_BYTES,
            },
            "tokens": {
                "access_seconds": settings.ACCESS_TOKEN_MINUTES * 60,
                "refresh_seconds": settings.REFRESH_TOKEN_DAYS * 86400,
            },
        }
    )
