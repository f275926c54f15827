"""Every write to accounts and sessions. Views, admin actions and commands call these."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Session, User
from accounts.signals import sessions_ended, user_deleting
from chatproject.files import file_check_size, file_delete, file_save, image_probe

PROFILE_FIELDS = ("username", "email", "full_name", "mobile_no", "bio", "status")
WRONG_PASSWORD = "The password is not correct."
RECOVERY_REFUSED = "The username or security phrase is not correct."


class SessionError(Exception):
    """A refresh token that is invalid, spent, revoked or of an ended session."""


class InvalidCredentials(Exception):
    """Login refused; the same whether the user exists or the password is wrong."""


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
    with transaction.atomic():
        _end_sessions(user=user, sessions=user.sessions.all())


def user_mark_seen(*, user_id) -> datetime:
    """Store when the user's last socket closed (presence calls this going offline)."""
    seen_at = timezone.now()
    User.objects.filter(pk=user_id).update(last_seen=seen_at)
    return seen_at


def user_register(
    *,
    username: str,
    email: str,
    password: str,
    full_name: str = "",
    mobile_no: str = "",
    security_phrase: str = "",
) -> User:
    user = User(username=username, email=email, full_name=full_name, mobile_no=mobile_no)
    _validate_new_password(password, user=user, field="password")
    user.set_password(password)
    if security_phrase:
        user.security_phrase = make_password(security_phrase)
    with transaction.atomic():
        _save_profile(user, fields=None)
    return user


def user_authenticate(*, login: str, password: str) -> User:
    """The active user whose username or email is `login` (any case), if `password` is theirs.

    An unknown login still runs the password hasher, so both refusals take as long.
    """
    user = _user_by_login(login)
    if user is None:
        make_password(password)
        raise InvalidCredentials
    if not (user.check_password(password) and user.is_active):
        raise InvalidCredentials
    return user


def user_update_profile(*, user: User, changes: dict[str, str]) -> User:
    """Change any of PROFILE_FIELDS; usernames and emails stay unique whatever their case."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")
    for field, value in changes.items():
        setattr(user, field, value)
    with transaction.atomic():
        _save_profile(user, fields=list(changes))
    return user


def user_set_security_phrase(*, user: User, password: str, security_phrase: str) -> None:
    _check_own_password(user, password, field="password")
    user.security_phrase = make_password(security_phrase)
    with transaction.atomic():
        user.save(update_fields=["security_phrase"])


def user_change_password(*, user: User, old_password: str, new_password: str) -> dict:
    """Set a new password: every session ends, and the returned pair opens a new one."""
    _check_own_password(user, old_password, field="old_password")
    _validate_new_password(new_password, user=user, field="new_password")
    with transaction.atomic():
        user_set_password(user=user, password=new_password)
        return session_start(user=user)


def user_recover(*, login: str, security_phrase: str, new_password: str) -> None:
    """Reset a forgotten password with the security phrase; every session ends.

    A wrong user or phrase gets one generic error (after the same hashing work); only then
    is the new password validated.
    """
    user = _user_by_login(login)
    if user is None or not user.is_active or not user.security_phrase:
        make_password(security_phrase)
        raise ValidationError(RECOVERY_REFUSED, code="recovery_refused")
    if not check_password(security_phrase, user.security_phrase):
        raise ValidationError(RECOVERY_REFUSED, code="recovery_refused")
    _validate_new_password(new_password, user=user, field="new_password")
    user_set_password(user=user, password=new_password)


def user_set_password(*, user: User, password: str | None) -> None:
    """Set (None: disable) the password and end every session of the user."""
    with transaction.atomic():
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(update_fields=["password"])
        sessions_end_all(user=user)


def user_set_avatar(*, user: User, upload) -> User:
    """Store `upload` as the avatar: a JPEG/PNG/WebP/GIF of at most MAX_AVATAR_BYTES."""
    file_check_size(upload, max_bytes=settings.MAX_AVATAR_BYTES)
    image = image_probe(upload)
    if image is None:
        raise ValidationError({"avatar": ["Upload a JPEG, PNG, WebP or GIF image."]})
    name = file_save(upload, folder="avatars", extension=image.extension)
    _replace_avatar(user, name)
    return user


def user_remove_avatar(*, user: User) -> User:
    _replace_avatar(user, "")
    return user


def user_deactivate(*, user: User) -> None:
    """For moderators: the user can no longer log in, and every session ends now."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        sessions_end_all(user=user)


def user_reactivate(*, user: User) -> None:
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])


def user_delete(*, user: User, password: str) -> None:
    """Delete the account, confirmed with its password.

    `user_deleting` goes out first, in the same transaction, so chats and messaging turn the
    user's messages into tombstones and take the user out of their chats before the row
    goes; the avatar file goes after the commit.
    """
    _check_own_password(user, password, field="password")
    avatar = user.avatar
    with transaction.atomic():
        sessions_end_all(user=user)
        user_deleting.send(sender=User, user=user)
        user.delete()
        transaction.on_commit(lambda: file_delete(avatar), robust=True)


def _user_by_login(login: str) -> User | None:
    return User.objects.filter(Q(username__iexact=login) | Q(email__iexact=login)).first()


def _check_own_password(user: User, password: str, *, field: str) -> None:
    if not user.check_password(password):
        raise ValidationError({field: [WRONG_PASSWORD]}, code="wrong_password")


def _validate_new_password(password: str, *, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationError({field: error.messages})


def _save_profile(user: User, *, fields: list[str] | None) -> None:
    """Validate with the model's own rules and save; `fields=None` creates the user."""
    exclude = None
    if fields is not None:
        exclude = [field.name for field in User._meta.fields if field.name not in fields]
    user.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    _check_unique(user, fields=fields)
    try:
        with transaction.atomic():
            user.save(update_fields=fields)
    except IntegrityError:  # a concurrent request took the name between check and save
        raise ValidationError("That username or email was taken just now.", code="unique")


def _check_unique(user: User, *, fields: list[str] | None) -> None:
    errors = {}
    for field in ("username", "email"):
        if fields is not None and field not in fields:
            continue
        taken = User.objects.filter(**{f"{field}__iexact": getattr(user, field)})
        if taken.exclude(pk=user.pk).exists():
            errors[field] = [f"A user with that {field} already exists."]
    if errors:
        raise ValidationError(errors, code="unique")


def _replace_avatar(user: User, name: str) -> None:
    old = user.avatar
    with transaction.atomic():
        user.avatar = name
        user.save(update_fields=["avatar"])
        transaction.on_commit(lambda: file_delete(old), robust=True)


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
