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
        moved = read_pointer_advance(membership=membership, seq=min(seq, membership.chat.last_seq))
        if moved and announce:
            signals.read_moved.send(sender=Chat, chat=membership.chat, membership=membership)
    return membership


def read_pointer_advance(*, membership: Membership, seq: int, log: bool = True) -> bool:
    """Move a loaded membership's pointer forward to `seq` and, if `log`, log it; False if
    it was there.

    For callers that already hold the membership inside their transaction (a send)."""
    moved = Membership.objects.filter(pk=membership.pk, last_read_seq__lt=seq).update(
        last_read_seq=seq
    )
    if moved:
        membership.last_read_seq = seq
        if log:
            ReadMark.objects.create(chat_id=membership.chat_id, user_id=membership.user_id, seq=seq)
    return bool(moved)
