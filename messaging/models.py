from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from chats.models import Chat


class Message(models.Model):
    """One entry of a chat's timeline; `seq` orders it, `version` stamps its last change.

    A deleted message stays as a tombstone (row and `seq` kept, content and file erased).
    """

    class Type(models.TextChoices):
        TEXT = "text"
        IMAGE = "image"
        VIDEO = "video"
        FILE = "file"
        SYSTEM = "system"

    # No index of its own: (chat, seq) and (chat, version) lead with it.
    chat = models.ForeignKey(
        Chat, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    seq = models.PositiveBigIntegerField()
    version = models.PositiveBigIntegerField()
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    type = models.CharField(max_length=6, choices=Type.choices, default=Type.TEXT)
    content = models.TextField(blank=True)
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # NULL, not "", when absent: NULLs stay out of the unique constraint.
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(
                fields=["chat", "sender", "client_id"],
                condition=Q(client_id__isnull=False),
                name="message_client_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["chat", "version"], name="message_chat_version"),
        ]
        # Full-text search has a PostgreSQL-only GIN index, created in a migration.

    def __str__(self):
        return f"{self.chat_id}#{self.seq}"


class Attachment(models.Model):
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="attachment")
    file = models.CharField(max_length=255, help_text="Storage name of the file")
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    mime_type = models.CharField(max_length=100)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name


class Reaction(models.Model):
    # No index of its own: (message, user, emoji) leads with it.
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="reactions", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions"
    )
    emoji = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_unique"),
        ]


class MessageEdit(models.Model):
    """The text a message had before an edit."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    content = models.TextField()
    edited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["edited_at", "id"]


class Report(models.Model):
    """A member's flag on a message, for the moderators' queue in the admin."""

    class Status(models.TextChoices):
        OPEN = "open"
        MESSAGE_DELETED = "message_deleted"
        DISMISSED = "dismissed"
        SENDER_DEACTIVATED = "sender_deactivated"

    # No index of its own: (message, reporter) leads with it.
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="reports", db_index=False
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made"
    )
    reason = models.CharField(max_length=1000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports_resolved",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "reporter"], name="report_once"),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]
