"""Signals the chats services send inside their transaction, after the data changed.

`messaging` receives them (messaging/handlers.py) to post system messages into the
timeline and to fan the change out to sockets; chats itself knows nothing of either.
Every signal has `sender=Chat` and `chat`; where a person caused the change, `actor` (None:
the system or a moderator in the admin, e.g. the automatic admin hand-over).

`chat.version` as sent is the version this change took (or, for the signals that change no
chat state, the chat's current one): read it in the receiver, since a later change in the
same transaction takes the next one. One service call may send several signals, each with
its own version (a last admin leaving: `member_removed`, then `member_role_changed`).
"""

from django.dispatch import Signal

# A new chat, its memberships in place (direct: both people; group: creator admin + members).
chat_created = Signal()  # chat, actor
# Name, description or avatar changed.
chat_updated = Signal()  # chat, actor
# Deleted for everyone; the rows are gone but `chat.pk` is kept. `user_ids`: its members.
chat_deleted = Signal()  # chat, user_ids, actor
# A direct chat hidden and cleared for `membership.user` only (cleared_seq = last_seq).
chat_hidden = Signal()  # chat, membership
# A hidden chat back for `membership.user` (re-opened, or a new message arrived).
chat_unhidden = Signal()  # chat, membership
# New members of a group (a list of Membership, `user` loaded).
members_added = Signal()  # chat, memberships, actor
# `user` is no longer a member (actor == user: they left, or their account is going).
member_removed = Signal()  # chat, user, actor
# `membership.role` is the new role.
member_role_changed = Signal()  # chat, membership, actor
# `membership.last_read_seq` is the member's new read pointer.
read_moved = Signal()  # chat, membership
