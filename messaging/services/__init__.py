"""Every write to messages, attachments, reactions and reports. REST views, the socket,
admin actions and signal handlers call these; none writes the models directly.

A service checks access itself (a message the actor may not see is a 404, never a 403).
Every change to a message takes its chat's next `version` under `chats.services.chat_lock`
(the chat row first, then its messages) and announces itself through messaging.events after
the commit.
"""

from messaging.services.common import MessageConflict
from messaging.services.deletion import (
    message_delete,
    message_delete_by_moderator,
    messages_erase_for_user,
)
from messaging.services.messages import message_edit, message_post_system, message_send
from messaging.services.reactions import reaction_add, reaction_remove
from messaging.services.reports import (
    report_create,
    report_deactivate_sender,
    report_delete_message,
    report_dismiss,
)

__all__ = [
    "MessageConflict",
    "message_delete",
    "message_delete_by_moderator",
    "message_edit",
    "message_post_system",
    "message_send",
    "messages_erase_for_user",
    "reaction_add",
    "reaction_remove",
    "report_create",
    "report_deactivate_sender",
    "report_delete_message",
    "report_dismiss",
]
