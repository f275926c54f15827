import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Chat(models.Model):
    """A direct chat between two people, or a group of up to GROUP_MAX_MEMBERS.

    `last_seq` and `version` are counters moved only under this row's lock (chat_lock and
    chat_lock_for_message in chats/services/common.py): `seq` numbers the chat's messages
    without gaps, `version` numbers every change.
    """

    class Type(models.TextChoices):
        DIRECT = "direct"
        GROUP = "group"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=6, choices=Type.choices)
    name = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=1000, blank=True)
    avatar = models.CharField(max_length=255, blank=True, help_text="Storage name of the file")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    last_seq = models.PositiveBigIntegerField(default=0)
    version = models.PositiveBigIntegerField(default=0)
    # "<smaller user id>:<larger user id>" for direct chats (NULL for groups, which the unique
    # constraint ignores): one direct chat per pair, enforced by the database.
    direct_key = models.CharField(max_length=73, null=True, blank=True, editable=False)  # noqa: DJ001

    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="chats"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["direct_key"], name="chat_one_direct_per_pair"),
            models.CheckConstraint(
                condition=Q(type="group", direct_key__isnull=True)
                | Q(type="direct", direct_key__isnull=False),
                name="chat_direct_key_iff_direct",
            ),
        ]
        indexes = [models.Index(fields=["-last_activity_at", "-id"], name="chat_activity")]

    def __str__(self):
        return self.name or f"{self.type} {self.id}"

    @property
    def is_direct(self) -> bool:
        return self.type == self.Type.DIRECT

    @staticmethod
    def direct_key_for(user_a_id, user_b_id) -> str:
        low, high = sorted([str(user_a_id), str(user_b_id)])
        return f"{low}:{high}"


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin"
        MEMBER = "member"

    # No index of their own: (chat, user) and (user, is_hidden) lead with them.
    chat = models.ForeignKey(
        Chat, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
    )
    role = models.CharField(max_length=6, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    last_read_seq = models.PositiveBigIntegerField(default=0)
    # Messages up to cleared_seq do not exist for this member (a direct chat they deleted).
    cleared_seq = models.PositiveBigIntegerField(default=0)
    is_hidden = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "user"], name="membership_unique"),
        ]
        indexes = [models.Index(fields=["user", "is_hidden"])]

    def __str__(self):
        return f"{self.user_id} in {self.chat_id} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def unread_count(self) -> int:
        """Arithmetic on counters, never a count query (needs `chat` loaded)."""
        return max(self.chat.last_seq - max(self.last_read_seq, self.cleared_seq), 0)


class ReadMark(models.Model):
    """A forward move of a read pointer, so receipts can say when a member read a message."""

    # No index of its own: (chat, seq) leads with it.
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["chat", "seq"])]
