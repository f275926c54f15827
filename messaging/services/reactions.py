"""Reactions: one emoji per user at most once; at most MAX_DISTINCT_EMOJI per message."""

import unicodedata

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from messaging.events import publish_reaction
from messaging.models import Message, Reaction
from messaging.selectors import message_load
from messaging.services.common import message_lock, not_deleted, version_take

EMOJI_MAX_LENGTH = 32
MAX_DISTINCT_EMOJI = 20


def emoji_check(emoji) -> str:
    """1-32 code points with no whitespace, control or surrogate characters (joiners and
    variation selectors, which emoji sequences need, are allowed)."""
    if not isinstance(emoji, str) or not 1 <= len(emoji) <= EMOJI_MAX_LENGTH:
        raise ValidationError({"emoji": [f"1 to {EMOJI_MAX_LENGTH} characters."]})
    if any(char.isspace() or unicodedata.category(char) in {"Cc", "Cs"} for char in emoji):
        raise ValidationError({"emoji": ["No whitespace or control characters."]})
    return emoji


def reaction_add(*, message_id, user: User, emoji: str) -> Message:
    """Add the user's `emoji` to the message; adding it again changes nothing."""
    emoji = emoji_check(emoji)
    with transaction.atomic():
        chat, _, message = message_lock(message_id=message_id, user=user)
        not_deleted(message)
        if Reaction.objects.filter(message=message, user=user, emoji=emoji).exists():
            return message_load(message_id=message.pk)
        present = set(message.reactions.values_list("emoji", flat=True))
        if emoji not in present and len(present) >= MAX_DISTINCT_EMOJI:
            limit = MAX_DISTINCT_EMOJI
            raise ValidationError({"emoji": [f"A message holds at most {limit} different emoji."]})
        Reaction.objects.create(message=message, user=user, emoji=emoji)
        return _announce(chat, message, "reaction_added", user=user, emoji=emoji)


def reaction_remove(*, message_id, user: User, emoji: str) -> Message:
    """Remove the user's `emoji` from the message; if it is not there, nothing changes."""
    emoji = emoji_check(emoji)
    with transaction.atomic():
        chat, _, message = message_lock(message_id=message_id, user=user)
        not_deleted(message)
        removed, _ = Reaction.objects.filter(message=message, user=user, emoji=emoji).delete()
        if not removed:
            return message_load(message_id=message.pk)
        return _announce(chat, message, "reaction_removed", user=user, emoji=emoji)


def _announce(chat, message: Message, event_type: str, *, user: User, emoji: str) -> Message:
    version_take(chat, message)
    message.save(update_fields=["version"])
    message = message_load(message_id=message.pk)
    publish_reaction(event_type, message, user_id=user.pk, emoji=emoji)
    return message
