import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

USERNAME_PATTERN = r"^[A-Za-z0-9_.]{3,32}$"
MOBILE_PATTERN = r"^\+?[0-9 ()-]{6,20}$"


class CaseInsensitiveUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A person. Usernames and emails are unique whatever their case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(
        max_length=32, validators=[RegexValidator(USERNAME_PATTERN)], unique=True
    )
    email = models.EmailField()
    first_name = None
    last_name = None
    full_name = models.CharField(max_length=100, blank=True)
    mobile_no = models.CharField(
        max_length=20, blank=True, validators=[RegexValidator(MOBILE_PATTERN)]
    )
    bio = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=140, blank=True)
    avatar = models.CharField(max_length=255, blank=True, help_text="Storage name of the file")
    last_seen = models.DateTimeField(null=True, blank=True)
    security_phrase = models.CharField(max_length=128, blank=True, help_text="Hashed")

    objects = CaseInsensitiveUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_ci_unique",
                violation_error_message="A user with that email already exists.",
            ),
        ]

    def __str__(self):
        return self.username

    @property
    def has_security_phrase(self) -> bool:
        return bool(self.security_phrase)


class Session(models.Model):
    """One login. Every token pair of the login carries its `sid`.

    `refresh_jti` names the one refresh token that may still be spent: a refresh claims it
    with a conditional UPDATE, so of several concurrent refreshes exactly one succeeds.
    """

    sid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: (user, ended_at) leads with it.
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="sessions", db_index=False
    )
    refresh_jti = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "ended_at"])]

    def __str__(self):
        return f"{self.user_id}/{self.sid}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None
