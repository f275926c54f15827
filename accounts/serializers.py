from django.core.validators import RegexValidator
from rest_framework import serializers

from accounts import presence
from accounts.models import MOBILE_PATTERN, USERNAME_PATTERN, User
from chatproject.api import datetime_text
from chatproject.files import image_url
from chatproject.text import TextField

PASSWORD_MAX_LENGTH = 4096  # bounds the hashing work a request can ask for
PHRASE_MIN_LENGTH = 8
PHRASE_MAX_LENGTH = 200
USERNAME_RULE = "3 to 32 letters, digits, '_' or '.'."


def username_field(**kwargs) -> TextField:
    validator = RegexValidator(USERNAME_PATTERN, message=f"A username is {USERNAME_RULE}")
    return TextField(max_length=32, validators=[validator], **kwargs)


def password_field() -> serializers.CharField:
    return TextField(max_length=PASSWORD_MAX_LENGTH, style={"input_type": "password"})


def mobile_field() -> TextField:
    validator = RegexValidator(MOBILE_PATTERN, message="Enter a valid phone number.")
    return TextField(max_length=20, validators=[validator], required=False, allow_blank=True)


def phrase_field(**kwargs) -> TextField:
    return TextField(min_length=PHRASE_MIN_LENGTH, max_length=PHRASE_MAX_LENGTH, **kwargs)


class UserSerializer(serializers.ModelSerializer):
    """The public <user>: never email or phone.

    `is_online` comes from the context's `online_ids` (a set of id strings) when the caller
    asked presence for a whole response at once, as lists should (`users_data`); a single
    user asks for itself.

    Every message and event carries a <user>, so `to_representation` is written out: DRF's
    generic one builds the fields anew per instance. The declared fields are the schema;
    accounts/tests/test_serializers.py checks that both give the same output.
    """

    ONLINE_IDS = "online_ids"

    avatar = serializers.SerializerMethodField()
    is_online = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "bio", "status", "avatar", "is_online"]
        fields += ["last_seen"]
        read_only_fields = fields

    def to_representation(self, user: User) -> dict:
        return user_data(user, online_ids=self.context.get(self.ONLINE_IDS))

    def get_avatar(self, user: User) -> str | None:
        return image_url(user.avatar)

    def get_is_online(self, user: User) -> bool:
        return is_online(user, self.context.get(self.ONLINE_IDS))


def users_data(users, *, online_ids: set[str] | None = None) -> list[dict]:
    """<user> of each, asking presence once for all of them unless the caller has."""
    users = list(users)
    if online_ids is None:
        online_ids = presence.online_among([str(user.pk) for user in users])
    return [user_data(user, online_ids=online_ids) for user in users]


def is_online(user: User, online_ids: set[str] | None) -> bool:
    """From `online_ids` when the caller asked presence for many users at once, else asked."""
    if online_ids is None:
        online_ids = presence.online_among([str(user.pk)])
    return str(user.pk) in online_ids


def user_data(user: User, *, online_ids: set[str] | None) -> dict:
    """The <user> of UserSerializer, for representations that nest one."""
    return {
        "id": str(user.pk),
        "username": user.username,
        "full_name": user.full_name,
        "bio": user.bio,
        "status": user.status,
        "avatar": image_url(user.avatar),
        "is_online": is_online(user, online_ids),
        "last_seen": datetime_text(user.last_seen),
    }


class MeSerializer(UserSerializer):
    """<me>: the caller's own account."""

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "email", "mobile_no", "date_joined"]
        fields += ["has_security_phrase"]
        read_only_fields = fields

    def to_representation(self, user: User) -> dict:
        return {
            **super().to_representation(user),
            "email": user.email,
            "mobile_no": user.mobile_no,
            "date_joined": datetime_text(user.date_joined),
            "has_security_phrase": user.has_security_phrase,
        }


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class AuthResultSerializer(TokenPairSerializer):
    user = MeSerializer()


class RegisterSerializer(serializers.Serializer):
    username = username_field()
    email = serializers.EmailField(max_length=254)
    password = password_field()
    full_name = TextField(max_length=100, required=False, allow_blank=True)
    mobile_no = mobile_field()
    security_phrase = phrase_field(required=False, allow_blank=True)


class LoginSerializer(serializers.Serializer):
    username = TextField(max_length=254, help_text="Username or email, in any case.")
    password = password_field()


class RefreshSerializer(serializers.Serializer):
    refresh = TextField(max_length=4096)


class RecoverSerializer(serializers.Serializer):
    username = TextField(max_length=254, help_text="Username or email, in any case.")
    security_phrase = TextField(max_length=PHRASE_MAX_LENGTH)
    new_password = password_field()


class PasswordChangeSerializer(serializers.Serializer):
    old_password = password_field()
    new_password = password_field()


class ProfileUpdateSerializer(serializers.Serializer):
    username = username_field(required=False)
    email = serializers.EmailField(max_length=254, required=False)
    full_name = TextField(max_length=100, required=False, allow_blank=True)
    mobile_no = mobile_field()
    bio = TextField(max_length=500, required=False, allow_blank=True)
    status = TextField(max_length=140, required=False, allow_blank=True)


class SecurityPhraseSerializer(serializers.Serializer):
    password = password_field()
    security_phrase = phrase_field()


class PasswordConfirmSerializer(serializers.Serializer):
    password = password_field()


class UserSearchSerializer(serializers.Serializer):
    search = TextField(
        max_length=254, required=False, allow_blank=True, help_text="At least 2 characters."
    )


class AvatarUploadSerializer(serializers.Serializer):
    avatar = serializers.FileField()
