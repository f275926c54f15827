"""Signals the chats services send inside their transaction.

`messaging` receives them (messaging/handlers.py) to post system messages into the
timeline and to fan the change out to sockets; chats itself knows nothing of either.
Every signal has `chat` and, where a person caused the change, `actor`.
"""

from django.dispatch import Signal

chat_created = Signal()  # chat, actor
chat_updated = Signal()  # chat, actor
chat_deleted = Signal()  # chat, user_ids (the members it had), actor
chat_hidden = Signal()  # chat, membership (hidden for its user only)
chat_unhidden = Signal()  # chat, membership
members_added = Signal()  # chat, memberships, actor
member_removed = Signal()  # chat, user, actor (the user itself when leaving)
member_role_changed = Signal()  # chat, membership, actor
read_moved = Signal()  # chat, membership (its last_read_seq is the new pointer)
