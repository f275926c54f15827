import json

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from messaging.services.maintenance import service_stats

DEFAULT_TOP = 10


class Command(BaseCommand):
    help = (
        "Print counts of users, chats, messages, attachments and open reports, the busiest "
        "chats and the storage used (attachment sizes as recorded, avatars as on disk). "
        "A constant number of queries whatever the data size."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--top",
            type=int,
            default=DEFAULT_TOP,
            help=f"How many of the busiest chats to list (default {DEFAULT_TOP}).",
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print one JSON object."
        )

    def handle(self, *args, top: int, as_json: bool, verbosity: int, **options):
        if top < 0:
            raise CommandError("--top must be 0 or more.")
        progress = self._progress if verbosity >= 1 else None
        stats = service_stats(top=top, progress=progress)
        self.stdout.write(json.dumps(stats, indent=2) if as_json else _as_text(stats))

    def _progress(self, text: str) -> None:
        self.stderr.write(text, style_func=str)


def _as_text(stats: dict) -> str:
    users, chats, messages = stats["users"], stats["chats"], stats["messages"]
    attachments, storage = stats["attachments"], stats["storage"]
    lines = [
        f"Users: {users['total']} ({users['active']} active)",
        f"Chats: {_by_type(chats)}",
        f"Messages: {_by_type(messages)}, {messages['deleted']} deleted",
        f"Attachments: {attachments['count']} ({_size(attachments['bytes'])})",
        f"Open reports: {stats['open_reports']}",
        f"Storage: {_size(storage['total_bytes'])} = attachments "
        f"{_size(storage['attachment_bytes'])} + {storage['avatar_files']} avatars "
        f"{_size(storage['avatar_bytes'])} ({storage['avatars_missing']} missing on disk)",
        "Busiest chats:",
    ]
    lines += [
        f"  {chat['messages']:>8} messages  {chat['members']:>3} members  "
        f"{chat['type']:<6}  {chat['id']}  {chat['name']}"
        for chat in stats["busiest_chats"]
    ] or ["  (none)"]
    return "\n".join(lines)


def _by_type(counts: dict) -> str:
    parts = ", ".join(f"{count} {name}" for name, count in counts["by_type"].items())
    return f"{counts['total']} ({parts})"


def _size(size: int) -> str:
    return filesizeformat(size).replace("\xa0", " ")
