"""The admin site, its login form limited like the API's logins."""

import math

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpResponse

from accounts.throttles import AuthRateThrottle


class ThrottledAdminSite(admin.AdminSite):
    """Django's admin; a login attempt counts against THROTTLE_AUTH per client address, in
    the same count as the API's logins, so /admin/login/ is no unlimited way to guess
    passwords."""

    def login(self, request, extra_context=None):
        if request.method == "POST":
            throttle = AuthRateThrottle()
            if not throttle.allow_request(request, None):
                response = HttpResponse(
                    "Too many login attempts; try again later.\n",
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
                response["Retry-After"] = str(math.ceil(throttle.wait() or 1))
                return response
        return super().login(request, extra_context)


class ThrottledAdminConfig(AdminConfig):
    """django.contrib.admin with ThrottledAdminSite as `admin.site` (INSTALLED_APPS)."""

    default_site = "accounts.admin_site.ThrottledAdminSite"
