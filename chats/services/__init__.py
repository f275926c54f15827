"""Every write to chats and memberships. Views, the consumer, admin actions, commands and
signal handlers call these; none writes the models directly.

A service checks access itself: a chat the actor is not in is a 404 (never a 403). A change
to the chat itself (name, description, avatar, members, roles) takes the chat's next
`version` through `chat_lock`, then sends its signal from chats/signals.py inside the
transaction; messaging receives it to post system messages and to fan the change out.
`actor=None` means a moderator in the admin or the system (no membership needed).
"""

from chats.services.chats import (
    chat_avatar_delete,
    chat_avatar_set,
    chat_delete,
    chat_destroy,
    chat_unhide_for_members,
    chat_update,
    direct_chat_get_or_create,
    group_create,
)
from chats.services.common import chat_lock, chat_lock_for_message
from chats.services.members import (
    chat_leave,
    member_remove,
    member_role_set,
    members_add,
    memberships_end_for_user,
)
from chats.services.reads import chat_mark_read, read_pointer_advance

__all__ = [
    "chat_avatar_delete",
    "chat_avatar_set",
    "chat_delete",
    "chat_destroy",
    "chat_leave",
    "chat_lock",
    "chat_lock_for_message",
    "chat_mark_read",
    "chat_unhide_for_members",
    "chat_update",
    "direct_chat_get_or_create",
    "group_create",
    "member_remove",
    "member_role_set",
    "members_add",
    "memberships_end_for_user",
    "read_pointer_advance",
]
