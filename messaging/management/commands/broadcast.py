import logging
import uuid

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from accounts.models import User
from messaging.services import message_post_system
from messaging.services.common import content_check

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Post a staff announcement to a chat as a `system` message (no sender, like the "
        "notices of members joining): it takes the chat's next seq, and the members' open "
        "sockets get new_message on every server process."
    )

    def add_arguments(self, parser):
        parser.add_argument("chat_id", type=uuid.UUID, help="The chat's id (a UUID).")
        parser.add_argument("text", help="The message, as members will read it.")
        parser.add_argument(
            "--as-user",
            metavar="USERNAME",
            help="The staff member announcing it: must be an active staff account; logged.",
        )

    def handle(self, *args, chat_id: uuid.UUID, text: str, as_user: str | None, **options):
        staff = _staff(as_user) if as_user else None
        try:
            content = content_check(text, required=True)
            message = message_post_system(chat_id=chat_id, content=content)
        except Http404:
            raise CommandError(f"There is no chat with id {chat_id}.")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages))
        logger.info("broadcast %s to chat %s by %s", message.pk, chat_id, staff or "an operator")
        self.stdout.write(f"Posted message {message.pk} (seq {message.seq}) to chat {chat_id}.")


def _staff(username: str) -> User:
    user = User.objects.filter(username__iexact=username, is_active=True, is_staff=True).first()
    if user is None:
        raise CommandError(f"{username!r} is not an active staff account.")
    return user
