"""Read pointers: forward only, logged for receipts."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from chats import signals
from chats.models import Chat, Membership, ReadMark
from chats.selectors import membership_get


def chat_mark_read(*, chat_id, user: User, seq: int, announce: bool = True) -> Membership:
    """Move the user's read pointer forward to `seq` (clamped to the chat's `last_seq`).

    At or below the pointer nothing happens. Each move is logged as a ReadMark for receipts
    and, if `announce`, sent as `read_moved` (sending a message moves the sender's pointer
    without announcing it). The pointer moves with a conditional UPDATE, never backwards.
    """
    if seq < 0:
        raise ValidationError({"seq": ["Must not be negative."]})
    with transaction.atomic():
        membership = membership_get(user=user, chat_id=chat_id)
        target = min(seq, membership.chat.last_seq)
        moved = Membership.objects.filter(pk=membership.pk, last_read_seq__lt=target).update(
            last_read_seq=target
        )
        if moved:
            membership.last_read_seq = target
            ReadMark.objects.create(chat_id=membership.chat_id, user=user, seq=target)
            if announce:
                signals.read_moved.send(sender=Chat, chat=membership.chat, membership=membership)
    return membership
