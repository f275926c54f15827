import pytest

from accounts.services import SessionError, session_logout, session_refresh, session_start


def test_it_refreshes_once_per_token(alice):
    tokens = session_start(user=alice)
    session_refresh(refresh=tokens["refresh"])
    with pytest.raises(SessionError):
        session_refresh(refresh=tokens["refresh"])


def test_logout_ends_the_session_of_the_token(alice, api):
    tokens = session_start(user=alice)
    session_logout(user=alice, refresh=tokens["refresh"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get("/api/v1/info").status_code == 200
    with pytest.raises(SessionError):
        session_refresh(refresh=tokens["refresh"])
