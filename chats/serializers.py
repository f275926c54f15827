"""`<chat>` as its member sees it, members, and the inputs of the chat endpoints.

`chats_data` is the one way to present chats, to REST and to socket events alike: it loads
what every <chat> embeds (the other person of a direct chat, the last message, presence)
for any number of memberships in a constant number of queries; the memberships' own query
(`selectors.memberships_shown`) brings the member counts and the last messages' ids.
"""

from django.conf import settings
from django.utils.functional import cached_property
from rest_framework import serializers

from accounts import presence
from accounts.serializers import UserSerializer, user_data
from chatproject.api import datetime_text, represent_each
from chatproject.files import image_url
from chatproject.text import TextField
from chats import selectors
from chats.models import Chat, Membership
from messaging.models import Message
from messaging.selectors import message_queryset
from messaging.serializers import MessageSerializer

ONLINE_IDS = UserSerializer.ONLINE_IDS


class MemberSerializer(serializers.ModelSerializer):
    user = UserSerializer()

    class Meta:
        model = Membership
        fields = ["user", "role", "joined_at", "last_read_seq"]
        read_only_fields = fields


class ChatSerializer(serializers.Serializer):
    """<chat>, from a Membership (the viewer's) prepared by `chats_data`.

    A chat list is up to 100 of these, so `to_representation` is written out like
    MessageSerializer's; chats/tests/test_serializers.py checks it against the fields.
    """

    id = serializers.UUIDField(source="chat.id")
    type = serializers.ChoiceField(Chat.Type.choices, source="chat.type")
    name = serializers.CharField(source="chat.name")
    description = serializers.CharField(source="chat.description")
    avatar = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="chat.created_at")
    last_message = MessageSerializer(allow_null=True)
    last_seq = serializers.IntegerField(source="chat.last_seq")
    version = serializers.IntegerField(source="chat.version")
    unread_count = serializers.IntegerField()
    members_count = serializers.IntegerField()
    my_role = serializers.ChoiceField(Membership.Role.choices, source="role")
    other_user = UserSerializer(allow_null=True, help_text="The other person (direct only).")
    last_read_seq = serializers.IntegerField()
    cleared_seq = serializers.IntegerField()

    def to_representation(self, membership: Membership) -> dict:
        chat, last_message, other_user = membership.chat, membership.last_message, None
        online_ids = self.context.get(ONLINE_IDS)
        if membership.other_user is not None:
            other_user = user_data(membership.other_user, online_ids=online_ids)
        if last_message is not None:
            last_message = self.message_serializer.to_representation(last_message)
        return {
            "id": str(chat.pk),
            "type": chat.type,
            "name": chat.name,
            "description": chat.description,
            "avatar": self.get_avatar(membership),
            "created_at": datetime_text(chat.created_at),
            "last_message": last_message,
            "last_seq": chat.last_seq,
            "version": chat.version,
            "unread_count": membership.unread_count,
            "members_count": membership.members_count,
            "my_role": membership.role,
            "other_user": other_user,
            "last_read_seq": membership.last_read_seq,
            "cleared_seq": membership.cleared_seq,
        }

    def get_avatar(self, membership: Membership) -> str | None:
        return image_url(membership.chat.avatar)

    @cached_property
    def message_serializer(self) -> MessageSerializer:
        """One for all the chats this serializer represents: built for each of them, they were a
        tenth of the instructions of a page of 100."""
        return MessageSerializer(context=self.context)


class ChatDetailSerializer(ChatSerializer):
    members = MemberSerializer(many=True)

    def to_representation(self, membership: Membership) -> dict:
        members = MemberSerializer(context=self.context)
        return {
            **super().to_representation(membership),
            "members": represent_each(members, membership.members),
        }


def chats_data(memberships: list[Membership], *, detail: bool = False) -> list[dict]:
    """<chat> (or, with `detail`, the detail with `members`) of each membership's chat as
    that membership's user sees it. Memberships come from `selectors.memberships_shown`."""
    members = _members_by_chat(memberships) if detail else {}
    partners = selectors.direct_partners(memberships=memberships)
    last_messages = _last_messages(memberships)
    for membership in memberships:
        membership.members = members.get(membership.chat_id, [])
        membership.other_user = partners.get(membership.pk)
        membership.last_message = last_messages.get(membership.pk)
    people = [m.other_user for m in memberships if m.other_user]
    people += [m.user for chat_members in members.values() for m in chat_members]
    people += [message.sender for message in last_messages.values() if message.sender]
    context = {ONLINE_IDS: presence.online_among({person.pk for person in people if person})}
    serializer_class = ChatDetailSerializer if detail else ChatSerializer
    return represent_each(serializer_class(context=context), memberships)


def chat_detail_data(membership: Membership) -> dict:
    return chats_data([membership], detail=True)[0]


def members_data(memberships: list[Membership]) -> list[dict]:
    """Members (users loaded), with one presence lookup for all of them."""
    online = presence.online_among({membership.user_id for membership in memberships})
    return represent_each(MemberSerializer(context={ONLINE_IDS: online}), memberships)


def _members_by_chat(memberships: list[Membership]) -> dict:
    by_chat = {}
    for member in selectors.member_list(chat_ids={m.chat_id for m in memberships}):
        by_chat.setdefault(member.chat_id, []).append(member)
    return by_chat


def _last_messages(memberships: list[Membership]) -> dict[int, Message]:
    """For each membership (by id) whose chat has a message the member did not clear, the
    chat's last message, in one query (plus one for reactions) for all of them."""
    last_ids = {
        m.pk: m.last_message_id
        for m in memberships
        if m.last_message_id is not None and m.chat.last_seq > m.cleared_seq
    }
    if not last_ids:
        return {}
    by_id = message_queryset().in_bulk(set(last_ids.values()))
    return {pk: by_id[message_id] for pk, message_id in last_ids.items() if message_id in by_id}


# --- Inputs ---------------------------------------------------------------------------------


class ChatCreateSerializer(serializers.Serializer):
    """`{"type": "direct", "user_id"}` or `{"type": "group", "name", "member_ids",
    "description"?}`."""

    type = serializers.ChoiceField(Chat.Type.choices)
    user_id = serializers.UUIDField(required=False, help_text="direct: the other person")
    name = TextField(required=False, allow_blank=True, help_text="group: 1-100 after trimming")
    description = TextField(required=False, allow_blank=True, help_text="group: up to 1000")
    member_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=settings.GROUP_MAX_MEMBERS,
        help_text="group: the other members",
    )

    def validate(self, data):
        required = ["user_id"] if data["type"] == Chat.Type.DIRECT else ["name"]
        missing = {name: ["This field is required."] for name in required if name not in data}
        if missing:
            raise serializers.ValidationError(missing)
        return data


class ChatUpdateSerializer(serializers.Serializer):
    name = TextField(required=False, allow_blank=True)
    description = TextField(required=False, allow_blank=True)


class ChatAvatarSerializer(serializers.Serializer):
    avatar = serializers.FileField()


class MembersAddSerializer(serializers.Serializer):
    user_ids = serializers.ListField(
        child=serializers.UUIDField(), max_length=settings.GROUP_MAX_MEMBERS
    )


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(Membership.Role.choices)


class ReadSerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=0)


class ChatPageQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, default=selectors.CHATS_PAGE_DEFAULT)
    before = serializers.CharField(required=False, help_text="`next` of the previous page")

    def validate_limit(self, limit: int) -> int:
        return min(limit, selectors.CHATS_PAGE_MAX)


# --- Output shapes for the schema -----------------------------------------------------------


class ChatPageSerializer(serializers.Serializer):
    results = ChatSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="Pass as `before` for more")


class ChatSyncSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField()
    last_seq = serializers.IntegerField()
    last_read_seq = serializers.IntegerField()
    cleared_seq = serializers.IntegerField()
