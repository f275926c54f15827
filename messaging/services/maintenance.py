"""Operator maintenance behind the `chat_stats` and `purge` commands.

What `purge` erases is what no client can see, so it announces nothing:
- orphaned files: files under the attachment and avatar folders that no Attachment, User or
  Chat row names. Deleting a message drops its attachment row at once and its file after
  the commit; a file left behind when that step failed (a storage error, a process stopped
  between commit and cleanup) is such an orphan, as is a replaced avatar whose old file
  stayed. Files younger than ORPHAN_GRACE are kept: an upload is stored before its row
  commits.
- reports on tombstones: resolved reports (not open) of a message deleted, and resolved,
  more than the retention ago. Open reports stay for the moderators.
- ended sessions: logins that ended (logout, password change, deactivation...) more than
  the retention ago. Their tokens are refused as before: a session with no row is ended.
Message rows and their `seq` always stay (tombstones keep their place in the timeline), and
a tombstone has no content, file, edit history or reactions left to purge: deleting a
message erases those in the same transaction (services/deletion.py).
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.models import Session, User
from chats.models import Chat
from chats.selectors import member_counts
from chats.services.chats import AVATAR_FOLDER as CHAT_AVATAR_FOLDER
from messaging.models import Attachment, Message, Report
from messaging.services.messages import ATTACHMENT_FOLDER

USER_AVATAR_FOLDER = "avatars"  # accounts.services.user_set_avatar stores avatars there
STORED_FOLDERS = (ATTACHMENT_FOLDER, USER_AVATAR_FOLDER, CHAT_AVATAR_FOLDER)
ORPHAN_GRACE = timedelta(hours=1)
BATCH_SIZE = 500

Progress = Callable[[str], None]


@dataclass
class PurgeCandidates:
    files: dict[str, int] = field(default_factory=dict)  # storage name -> size in bytes
    report_ids: list[int] = field(default_factory=list)
    # Sessions ended before this moment (an ended session never changes), and how many.
    sessions_ended_before: datetime | None = None
    session_count: int = 0

    @property
    def file_bytes(self) -> int:
        return sum(self.files.values())


def purge_candidates(*, retention_days: int, progress: Progress | None = None) -> PurgeCandidates:
    """What `purge_apply` would erase now (reads only: this is the dry run)."""
    candidates = PurgeCandidates()
    for batch in _batches(_stored_files(), BATCH_SIZE):
        for name in _unreferenced(batch):
            size = _size_if_old(name)
            if size is not None:
                candidates.files[name] = size
        if progress:
            progress(f"{len(batch)} stored files checked")
    cutoff = timezone.now() - timedelta(days=retention_days)
    candidates.report_ids = list(_purgeable_reports(cutoff).values_list("pk", flat=True))
    candidates.sessions_ended_before = cutoff
    candidates.session_count = _ended_sessions(cutoff).count()
    return candidates


def purge_apply(
    *, candidates: PurgeCandidates, progress: Progress | None = None
) -> PurgeCandidates:
    """Erase the candidates and return what went. Each file is checked against the rows
    again first, so a list that went stale never costs a file something still names."""
    erased = PurgeCandidates()
    for batch in _batches(candidates.files, BATCH_SIZE):
        for name in _unreferenced(batch):
            default_storage.delete(name)
            erased.files[name] = candidates.files[name]
        if progress:
            progress(f"{len(batch)} files erased")
    with transaction.atomic():
        reports = Report.objects.filter(pk__in=candidates.report_ids).exclude(
            status=Report.Status.OPEN
        )
        erased.report_ids = list(reports.values_list("pk", flat=True))
        Report.objects.filter(pk__in=erased.report_ids).delete()
    if candidates.sessions_ended_before is not None:
        erased.sessions_ended_before = candidates.sessions_ended_before
        erased.session_count, _ = _ended_sessions(candidates.sessions_ended_before).delete()
    return erased


def _stored_files(folders: Iterable[str] = STORED_FOLDERS) -> Iterator[str]:
    for folder in folders:
        try:
            subfolders, files = default_storage.listdir(folder)
        except FileNotFoundError:  # nothing stored there yet
            continue
        yield from (f"{folder}/{name}" for name in sorted(files))
        yield from _stored_files(f"{folder}/{name}" for name in sorted(subfolders))


def _batches(names: Iterable[str], size: int) -> Iterator[list[str]]:
    batch = []
    for name in names:
        batch.append(name)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _unreferenced(names: list[str]) -> list[str]:
    """The names no Attachment, User or Chat row stores (one query)."""
    referenced = set(
        Attachment.objects.filter(file__in=names)
        .values_list("file", flat=True)
        .union(
            User.objects.filter(avatar__in=names).values_list("avatar", flat=True),
            Chat.objects.filter(avatar__in=names).values_list("avatar", flat=True),
        )
    )
    return [name for name in names if name not in referenced]


def _size_if_old(name: str) -> int | None:
    """The file's size if it last changed before ORPHAN_GRACE; None if younger, or gone
    meanwhile (a replaced avatar is deleted after its commit)."""
    try:
        if default_storage.get_modified_time(name) < timezone.now() - ORPHAN_GRACE:
            return default_storage.size(name)
    except FileNotFoundError:
        pass
    return None


def _purgeable_reports(cutoff):
    return Report.objects.filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__lt=cutoff),
        message__is_deleted=True,
        message__deleted_at__lt=cutoff,
    ).exclude(status=Report.Status.OPEN)


def _ended_sessions(cutoff):
    return Session.objects.filter(ended_at__lt=cutoff)


def service_stats(*, top: int, progress: Progress | None = None) -> dict:
    """Counts for operators, in a constant number of queries (aggregates, no per-chat
    loops); the avatar files on disk cost one storage call each, but no query."""
    attachments = Attachment.objects.aggregate(count=Count("pk"), bytes=Sum("size"))
    attachment_bytes = attachments["bytes"] or 0
    avatars = _avatar_usage(progress)
    return {
        "users": User.objects.aggregate(
            total=Count("pk"), active=Count("pk", filter=Q(is_active=True))
        ),
        "chats": _counts_by_type(Chat.objects.all()),
        "messages": _message_counts(),
        "attachments": {"count": attachments["count"], "bytes": attachment_bytes},
        "open_reports": Report.objects.filter(status=Report.Status.OPEN).count(),
        "busiest_chats": _busiest_chats(top),
        "storage": {
            "attachment_bytes": attachment_bytes,
            **avatars,
            "total_bytes": attachment_bytes + avatars["avatar_bytes"],
        },
    }


def _counts_by_type(queryset) -> dict:
    """{"total", "by_type": {type: count}} with every type present (0 when none)."""
    rows = queryset.order_by().values_list("type").annotate(count=Count("pk"))
    by_type = {choice: 0 for choice in queryset.model.Type.values} | dict(rows)
    return {"total": sum(by_type.values()), "by_type": by_type}


def _message_counts() -> dict:
    counts = _counts_by_type(Message.objects.all())
    counts["deleted"] = Message.objects.filter(is_deleted=True).count()
    return counts


def _busiest_chats(top: int) -> list[dict]:
    """The chats with the most messages. Rows stay when a message is deleted and `seq` is
    gapless, so `last_seq` is the number of messages a chat has had: no counting."""
    chats = list(Chat.objects.order_by("-last_seq", "pk")[:top])
    members = member_counts(chat_ids=[chat.pk for chat in chats])
    return [
        {
            "id": str(chat.pk),
            "type": chat.type,
            "name": chat.name,
            "messages": chat.last_seq,
            "members": members.get(chat.pk, 0),
        }
        for chat in chats
    ]


def _avatar_usage(progress: Progress | None) -> dict[str, int]:
    """Bytes on disk of the avatars users and chats name; a named file that is gone counts
    as missing."""
    names = (
        User.objects.exclude(avatar="")
        .values_list("avatar", flat=True)
        .union(Chat.objects.exclude(avatar="").values_list("avatar", flat=True))
    )
    usage = {"avatar_files": 0, "avatar_bytes": 0, "avatars_missing": 0}
    for done, name in enumerate(names.iterator(), start=1):
        try:
            usage["avatar_bytes"] += default_storage.size(name)
            usage["avatar_files"] += 1
        except FileNotFoundError:
            usage["avatars_missing"] += 1
        if progress and done % BATCH_SIZE == 0:
            progress(f"{done} avatars measured")
    return usage
