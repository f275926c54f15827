from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from chatproject import files, views

urlpatterns = [
    path("", views.client, name="client"),
    path("health", views.health, name="health"),
    path("health/live", views.health_live, name="health-live"),
    path("api/v1/info", views.info, name="info"),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/", include("chats.urls")),
    path("api/v1/", include("messaging.urls")),
    path("files/<str:token>", files.file_serve, name="file"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    re_path(r"^api/", views.api_not_found),
    path("admin/", admin.site.urls),
]
