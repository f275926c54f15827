"""`<message>` as REST returns it and every message event carries it (one shape for both)."""

from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from accounts.presence import online_among
from accounts.serializers import UserSerializer, user_data
from chatproject.api import datetime_text, represent_each
from chatproject.files import file_url
from chatproject.text import TextField
from messaging.models import Attachment, Message, Report
from messaging.selectors import CHANGES_MAX_LIMIT, HISTORY_MAX_LIMIT, SEARCH_MAX_LIMIT

REPLY_PREVIEW_LENGTH = 200
CLIENT_ID_MAX_LENGTH = Message._meta.get_field("client_id").max_length
HISTORY_DEFAULT_LIMIT = 50
CHANGES_DEFAULT_LIMIT = 200
SEARCH_DEFAULT_LIMIT = 20
SEARCH_MAX_QUERY_LENGTH = 500
ONLINE_IDS = UserSerializer.ONLINE_IDS


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["url", "name", "size", "mime_type", "width", "height"]

    def to_representation(self, attachment: Attachment) -> dict:
        return {
            "url": self.get_url(attachment),
            "name": attachment.name,
            "size": attachment.size,
            "mime_type": attachment.mime_type,
            "width": attachment.width,
            "height": attachment.height,
        }

    def get_url(self, attachment) -> str | None:
        return file_url(
            attachment.file, mime_type=attachment.mime_type, download_name=attachment.name
        )


class ReplyPreviewSerializer(serializers.ModelSerializer):
    sender_id = serializers.UUIDField(allow_null=True)
    content = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "seq", "sender_id", "type", "content", "is_deleted"]

    def to_representation(self, message: Message) -> dict:
        return {
            "id": message.pk,
            "seq": message.seq,
            "sender_id": None if message.sender_id is None else str(message.sender_id),
            "type": message.type,
            "content": self.get_content(message),
            "is_deleted": message.is_deleted,
        }

    def get_content(self, message) -> str:
        return message.content[:REPLY_PREVIEW_LENGTH]


REACTIONS_SCHEMA = inline_serializer(
    "Reaction",
    {
        "emoji": serializers.CharField(),
        "count": serializers.IntegerField(),
        "user_ids": serializers.ListField(child=serializers.UUIDField()),
    },
    many=True,
)


def reactions_summary(message: Message) -> list[dict]:
    """[{"emoji","count","user_ids"}], emoji in order of first use, users in order of reacting
    (from the reactions message_queryset() loads for a whole list at once)."""
    by_emoji: dict[str, list[str]] = {}
    for reaction in message.reaction_list:
        by_emoji.setdefault(reaction.emoji, []).append(str(reaction.user_id))
    return [
        {"emoji": emoji, "count": len(user_ids), "user_ids": user_ids}
        for emoji, user_ids in by_emoji.items()
    ]


class MessageSerializer(serializers.ModelSerializer):
    """Load messages with messaging.selectors.message_queryset() to keep queries constant.

    The hottest representation of the service (every event, ack and page), so it and its
    nested serializers write `to_representation` out instead of DRF's generic one, which
    builds every field anew per instance. The declared fields are the schema;
    messaging/tests/test_serializers.py checks that both give the same output.
    """

    chat_id = serializers.UUIDField()
    sender = UserSerializer(allow_null=True)
    attachment = AttachmentSerializer(allow_null=True)
    reply_to = ReplyPreviewSerializer(allow_null=True)
    reactions = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "chat_id",
            "seq",
            "version",
            "sender",
            "type",
            "content",
            "attachment",
            "reply_to",
            "reactions",
            "created_at",
            "edited_at",
            "is_deleted",
            "client_id",
        ]
        read_only_fields = fields

    def to_representation(self, message: Message) -> dict:
        sender, reply_to = message.sender, message.reply_to
        attachment = getattr(message, "attachment", None)
        return {
            "id": message.pk,
            "chat_id": str(message.chat_id),
            "seq": message.seq,
            "version": message.version,
            "sender": sender and user_data(sender, online_ids=self.context.get(ONLINE_IDS)),
            "type": message.type,
            "content": message.content,
            "attachment": attachment and self.attachment_serializer.to_representation(attachment),
            "reply_to": reply_to and self.reply_serializer.to_representation(reply_to),
            "reactions": reactions_summary(message),
            "created_at": datetime_text(message.created_at),
            "edited_at": datetime_text(message.edited_at),
            "is_deleted": message.is_deleted,
            "client_id": message.client_id,
        }

    @extend_schema_field(REACTIONS_SCHEMA)
    def get_reactions(self, message) -> list[dict]:
        return reactions_summary(message)

    # Built once for the whole page this serializer represents, as ChatSerializer's
    # `message_serializer` (building a serializer is ~70,000 instructions).
    @cached_property
    def attachment_serializer(self) -> AttachmentSerializer:
        return AttachmentSerializer()

    @cached_property
    def reply_serializer(self) -> ReplyPreviewSerializer:
        return ReplyPreviewSerializer()


def messages_data(messages) -> list[dict]:
    """<message> of each, asking presence once for all their senders."""
    messages = list(messages)
    sender_ids = {message.sender_id for message in messages if message.sender_id}
    online_ids = online_among(sender_ids) if sender_ids else set()
    return represent_each(MessageSerializer(context={ONLINE_IDS: online_ids}), messages)


class ReceiptSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    read_at = serializers.DateTimeField()


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ["id", "message_id", "reason", "status", "created_at"]
        read_only_fields = fields


def page_of(serializer_class, name: str) -> serializers.Serializer:
    """The schema of `{"results": [...], "has_more"}`."""
    return inline_serializer(
        name,
        {"results": serializer_class(many=True), "has_more": serializers.BooleanField()},
    )


class ChangesSerializer(serializers.Serializer):
    messages = MessageSerializer(many=True)
    version = serializers.IntegerField(help_text="The answer is complete up to this version.")
    has_more = serializers.BooleanField()
    cleared_seq = serializers.IntegerField()


# --- Inputs ---------------------------------------------------------------------------------

MAX_CURSOR = 2**63 - 1  # a bigint: larger values are no cursor at all


class LimitField(serializers.IntegerField):
    """A page size: an integer >= 1; above `maximum` it is clamped, not refused."""

    def __init__(self, *, maximum: int, **kwargs):
        self.maximum = maximum
        super().__init__(min_value=1, help_text=f"At most {maximum}.", **kwargs)

    def to_internal_value(self, data):
        return min(super().to_internal_value(data), self.maximum)


def cursor_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, min_value=0, max_value=MAX_CURSOR, **kwargs)


class HistoryQuerySerializer(serializers.Serializer):
    before = cursor_field(help_text="The messages just older than this seq.")
    after = cursor_field(help_text="The messages just newer than this seq.")
    limit = LimitField(maximum=HISTORY_MAX_LIMIT, default=HISTORY_DEFAULT_LIMIT)

    def validate(self, data):
        if "before" in data and "after" in data:
            raise serializers.ValidationError("Give `before` or `after`, not both.")
        return data


class ChangesQuerySerializer(serializers.Serializer):
    since = cursor_field(default=0, help_text="The version the client has.")
    limit = LimitField(maximum=CHANGES_MAX_LIMIT, default=CHANGES_DEFAULT_LIMIT)


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=SEARCH_MAX_QUERY_LENGTH, help_text="Every word must match."
    )
    chat_id = serializers.UUIDField(required=False, help_text="Only this chat.")
    before = cursor_field(help_text="Messages with a smaller id than this one.")
    limit = LimitField(maximum=SEARCH_MAX_LIMIT, default=SEARCH_DEFAULT_LIMIT)


class MessageCreateSerializer(serializers.Serializer):
    """JSON `{"content", "reply_to"?, "client_id"?}`, or multipart with `file` (and an
    optional caption in `content`). The rules for the text are the service's."""

    content = TextField(required=False, allow_blank=True, allow_null=True)
    client_id = TextField(required=False, allow_null=True, max_length=CLIENT_ID_MAX_LENGTH)
    reply_to = serializers.IntegerField(required=False, allow_null=True, max_value=MAX_CURSOR)
    file = serializers.FileField(required=False)

    def validate(self, data):
        if data.get("file") is None and data.get("content") is None:
            raise serializers.ValidationError({"content": ["This field is required."]})
        return data


class EditSerializer(serializers.Serializer):
    content = TextField()


class ReactionSerializer(serializers.Serializer):
    emoji = TextField()


class ReportCreateSerializer(serializers.Serializer):
    reason = TextField()
