"""`<message>` as REST returns it and every message event carries it (one shape for both)."""

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from accounts.presence import online_among
from chatproject.files import file_url, image_url
from messaging.models import Attachment, Message

REPLY_PREVIEW_LENGTH = 200
ONLINE_IDS = "online_ids"


class SenderSerializer(serializers.Serializer):
    """`<user>` (public): never email or phone. `is_online` comes from one presence lookup
    per list (the context's `online_ids`), else one per user."""

    id = serializers.UUIDField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    bio = serializers.CharField()
    status = serializers.CharField()
    avatar = serializers.SerializerMethodField()
    is_online = serializers.SerializerMethodField()
    last_seen = serializers.DateTimeField()

    def get_avatar(self, user) -> str | None:
        return image_url(user.avatar)

    def get_is_online(self, user) -> bool:
        online = self.context.get(ONLINE_IDS)
        if online is None:
            online = online_among([user.pk])
        return str(user.pk) in online


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["url", "name", "size", "mime_type", "width", "height"]

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
    (reads the prefetched reactions, so a list costs one query for all of them)."""
    by_emoji: dict[str, list[str]] = {}
    for reaction in message.reactions.all():
        by_emoji.setdefault(reaction.emoji, []).append(str(reaction.user_id))
    return [
        {"emoji": emoji, "count": len(user_ids), "user_ids": user_ids}
        for emoji, user_ids in by_emoji.items()
    ]


class MessageListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        messages = list(data.all() if hasattr(data, "all") else data)
        sender_ids = {message.sender_id for message in messages if message.sender_id}
        self.context.setdefault(ONLINE_IDS, online_among(sender_ids) if sender_ids else set())
        return super().to_representation(messages)


class MessageSerializer(serializers.ModelSerializer):
    """Load messages with messaging.selectors.message_queryset() to keep queries constant."""

    chat_id = serializers.UUIDField()
    sender = SenderSerializer(allow_null=True)
    attachment = AttachmentSerializer(allow_null=True)
    reply_to = ReplyPreviewSerializer(allow_null=True)
    reactions = serializers.SerializerMethodField()

    class Meta:
        model = Message
        list_serializer_class = MessageListSerializer
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

    @extend_schema_field(REACTIONS_SCHEMA)
    def get_reactions(self, message) -> list[dict]:
        return reactions_summary(message)
