"""Signals the accounts services send inside their transaction, for the apps above.

`messaging` closes sockets on `sessions_ended` and, on `user_deleting`, turns the user's
messages into tombstones and takes them out of their chats before the row goes.
"""

from django.dispatch import Signal

sessions_ended = Signal()  # user, sids
user_deleting = Signal()  # user
