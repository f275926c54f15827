"""Production settings pass Django's deployment checks, and every response carries the
security headers."""

import os
import re
import secrets
import subprocess
import sys

import pytest
from django.core.files.base import ContentFile

from chatproject.files import file_save, file_url
from chatproject.testing import BASE_DIR

# Each remaining warning is justified in README.md ("Deployment checks and headers").
EXPECTED_DEPLOY_WARNINGS = {"security.W021"}  # HSTS preload: the operator's commitment


def test_check_deploy_with_production_settings_warns_of_nothing_unexpected():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SECURE_") and key != "SILENCED_SYSTEM_CHECKS"
    }
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="chat.example.com")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    reported = set(re.findall(r"\(([\w.]+\.[WE]\d+)\)", result.stdout + result.stderr))
    assert reported == EXPECTED_DEPLOY_WARNINGS, result.stdout + result.stderr


def stored_file_url() -> str:
    return file_url(
        file_save(ContentFile(b"%PDF-1.4"), folder="attachments"), download_name="a.pdf"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/admin/login/",
        "/docs",
        "/redoc",
        "/api/schema",
        "/api/v1/info",
        "/api/v1/users/me",
        "/api/v1/no-such-route",
        "/health",
        "/static/client/app.js",
        "files",
    ],
)
def test_every_response_denies_framing_sniffing_and_referrers(client, path):
    response = client.get(stored_file_url() if path == "files" else path)
    assert response.status_code in {200, 401, 404}, path
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/admin/login/", "/docs", "/redoc"])
def test_pages_carry_a_content_security_policy_that_forbids_framing(client, path):
    policy = client.get(path)["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy


@pytest.mark.django_db
def test_a_stored_file_is_sandboxed(client):
    response = client.get(stored_file_url())
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/health/live"])
def test_health_checks_are_not_redirected_to_https(client, settings, path):
    """A load balancer that ends TLS probes over plain HTTP and wants a 200, not a 301."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(path).status_code == 200
    assert client.get("/api/v1/info").status_code == 301
