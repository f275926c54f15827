"""Members flag messages; moderators resolve the flags in the admin."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from chatproject.text import validate_text
from messaging.models import Report
from messaging.services.common import MessageConflict, message_lock, not_deleted
from messaging.services.deletion import message_delete_by_moderator

REASON_MAX_LENGTH = 1000


def report_create(*, message_id, reporter: User, reason: str) -> Report:
    """A member flags a message they can see; a second report by the same member is a 409."""
    reason = _reason_check(reason)
    with transaction.atomic():
        _, _, message = message_lock(message_id=message_id, user=reporter)
        not_deleted(message)
        try:
            with transaction.atomic():
                return Report.objects.create(message=message, reporter=reporter, reason=reason)
        except IntegrityError:
            raise MessageConflict("You have already reported this message.", code="reported")


def report_dismiss(*, report: Report, moderator: User) -> None:
    _resolve(report=report, moderator=moderator, status=Report.Status.DISMISSED)


def report_delete_message(*, report: Report, moderator: User) -> None:
    """Delete the reported message for everyone; every open report of it is resolved."""
    with transaction.atomic():
        message_delete_by_moderator(message_id=report.message_id)
        _resolve(report=report, moderator=moderator, status=Report.Status.MESSAGE_DELETED)


def report_deactivate_sender(*, report: Report, moderator: User) -> None:
    """Deactivate the sender's account (their sessions end); every open report of the
    message is resolved."""
    from accounts.services import user_deactivate

    with transaction.atomic():
        sender = report.message.sender
        if sender is None:
            raise ValidationError("The sender's account no longer exists.")
        user_deactivate(user=sender)
        _resolve(report=report, moderator=moderator, status=Report.Status.SENDER_DEACTIVATED)


def _resolve(*, report: Report, moderator: User, status: str) -> None:
    """Record who resolved the report and when, with the other open reports of its message
    (dismissing resolves only this one)."""
    reports = Report.objects.filter(pk=report.pk)
    if status != Report.Status.DISMISSED:
        reports = Report.objects.filter(message_id=report.message_id, status=Report.Status.OPEN)
        reports |= Report.objects.filter(pk=report.pk)
    reports.update(status=status, resolved_by=moderator, resolved_at=timezone.now())


def _reason_check(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError({"reason": ["Say why you report the message."]})
    try:
        validate_text(reason)
    except ValidationError as error:
        raise ValidationError({"reason": error.messages})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": [f"At most {REASON_MAX_LENGTH} characters."]})
    return reason
