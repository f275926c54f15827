from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from messaging.services.maintenance import ORPHAN_GRACE, purge_apply, purge_candidates


class Command(BaseCommand):
    help = (
        "Erase what nothing uses any more. (1) Orphaned files: under the attachment and "
        "avatar folders, named by no attachment, user or chat, and older than "
        f"{ORPHAN_GRACE.total_seconds() / 3600:g} h (an upload is stored before its row "
        "commits). Files of deleted messages left on disk are among them. (2) Resolved "
        "reports of messages deleted, and resolved, more than the retention ago "
        "(PURGE_RETENTION_DAYS); open reports stay. (3) Sessions ended more than the "
        "retention ago: their tokens stay refused. Message rows and their seq always stay: "
        "a tombstone keeps its place in the timeline, and its content, file, edit history "
        "and reactions are erased when it is deleted. Nothing erased is visible to clients, "
        "so no events are sent. Try --dry-run first."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would go and delete nothing."
        )
        parser.add_argument(
            "--retention-days",
            type=int,
            default=settings.PURGE_RETENTION_DAYS,
            help="Keep resolved reports of deleted messages, and ended sessions, this many days "
            f"(default PURGE_RETENTION_DAYS = {settings.PURGE_RETENTION_DAYS}).",
        )

    def handle(self, *args, dry_run: bool, retention_days: int, verbosity: int, **options):
        if retention_days < 0:
            raise CommandError("--retention-days must be 0 or more.")
        progress = self._progress if verbosity >= 1 else None
        candidates = purge_candidates(retention_days=retention_days, progress=progress)
        if verbosity >= 1:
            for name, size in candidates.files.items():
                self.stdout.write(f"file {name} ({size} bytes)")
            for report_id in candidates.report_ids:
                self.stdout.write(f"report {report_id}")
        if not dry_run:
            candidates = purge_apply(candidates=candidates, progress=progress)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {len(candidates.files)} files ({candidates.file_bytes} bytes), "
            f"{len(candidates.report_ids)} reports and {candidates.session_count} ended sessions."
        )

    def _progress(self, text: str) -> None:
        self.stderr.write(text, style_func=str)
