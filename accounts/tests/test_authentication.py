"""Bearer authentication: a token is only as good as its session and its user."""

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_a_user_deactivated_outside_the_services_loses_access_at_once(alice, client_for):
    client = client_for(alice)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert client.get("/api/v1/users/me").status_code == 401


def test_a_refresh_token_is_not_a_bearer_token(alice, api, client_for):
    refresh = client_for(alice).tokens["refresh"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh}")
    assert api.get("/api/v1/users/me").status_code == 401
