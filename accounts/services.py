"""Every write to accounts and sessions. Views, admin actions and commands call these."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Session, User
from accounts.signals import sessions_ended


class SessionError(Exception):
    """A refresh token that is invalid, spent, revoked or of an ended session."""


def _token_pair(*, session: Session) -> dict:
    refresh = RefreshToken.for_user(session.user)
    refresh["sid"] = str(session.sid)
    session.refresh_jti = refresh["jti"]
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def session_start(*, user: User) -> dict:
    """Open a session (one login) and return its first token pair."""
    session = Session(user=user)
    tokens = _token_pair(session=session)
    session.save()
    return tokens


def session_refresh(*, refresh: str) -> dict:
    """Spend `refresh` and return the next pair of its session.

    The spend is a conditional UPDATE on the session's current `refresh_jti`, so of several
    concurrent refreshes of one token exactly one succeeds.
    """
    token = _decode_refresh(refresh)
    with transaction.atomic():
        session = _open_session(token)
        if session is None or not session.user.is_active:
            raise SessionError("Session has ended.")
        spent_jti = token["jti"]
        tokens = _token_pair(session=session)
        claimed = Session.objects.filter(
            sid=session.sid, refresh_jti=spent_jti, ended_at__isnull=True
        ).update(refresh_jti=session.refresh_jti)
        if not claimed:
            raise SessionError("Refresh token already used.")
    return tokens


def session_logout(*, user: User, refresh: str) -> None:
    """End the session of `refresh`, one of `user`'s own; a spent token is a no-op."""
    token = _decode_refresh(refresh)
    if str(token.get("user_id")) != str(user.pk):
        raise SessionError("Not your token.")
    with transaction.atomic():
        session = _open_session(token)
        if session is not None and session.refresh_jti == token["jti"]:
            _end_sessions(user=user, sessions=Session.objects.filter(pk=session.pk))


def sessions_end_all(*, user: User) -> None:
    """End every session of `user`: tokens stop working and sockets close (4401)."""
    _end_sessions(user=user, sessions=user.sessions.all())


def user_mark_seen(*, user_id) -> datetime:
    """Store when the user's last socket closed (presence calls this going offline)."""
    seen_at = timezone.now()
    User.objects.filter(pk=user_id).update(last_seen=seen_at)
    return seen_at


def _end_sessions(*, user: User, sessions) -> None:
    sids = list(sessions.filter(ended_at__isnull=True).values_list("sid", flat=True))
    if sids:
        Session.objects.filter(sid__in=sids).update(ended_at=timezone.now())
        sessions_ended.send(sender=Session, user=user, sids=sids)


def _decode_refresh(refresh: str) -> RefreshToken:
    try:
        token = RefreshToken(refresh)
    except (TokenError, TypeError, ValueError):
        raise SessionError("Token is invalid or expired.")
    if "sid" not in token:
        raise SessionError("Token is invalid.")
    return token


def _open_session(token) -> Session | None:
    return (
        Session.objects.select_for_update()
        .select_related("user")
        .filter(sid=token["sid"], ended_at__isnull=True)
        .first()
    )
