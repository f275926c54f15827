"""Moderation: messages, attachments and the report queue. Read-only pages; every change is
an action that goes through messaging.services (events included), never a direct write."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When

from chatproject.admin import ReadOnlyAdminMixin
from messaging import services
from messaging.models import Attachment, Message, Report

PREVIEW_LENGTH = 80


def preview(text: str) -> str:
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


class ServiceOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def run_action(self, request, queryset, action, done: str) -> None:
        count = 0
        for obj in queryset:
            try:
                action(obj)
                count += 1
            except ValidationError as error:
                self.message_user(request, f"{obj}: {' '.join(error.messages)}", messages.ERROR)
        self.message_user(request, f"{done}: {count}.", messages.SUCCESS)


@admin.register(Message)
class MessageAdmin(ServiceOnlyAdmin):
    list_display = ["id", "chat", "seq", "sender", "type", "content_preview", "is_deleted"]
    list_display += ["created_at"]
    list_select_related = ["chat", "sender"]
    list_filter = ["chat__type", "type", "is_deleted"]
    search_fields = ["content", "sender__username"]
    show_full_result_count = False
    actions = ["delete_for_everyone"]

    @admin.display(description="content")
    def content_preview(self, message: Message) -> str:
        return preview(message.content)

    @admin.action(description="Delete for everyone", permissions=["change"])
    def delete_for_everyone(self, request, queryset):
        def delete(message):
            services.message_delete_by_moderator(message_id=message.pk)

        self.run_action(request, queryset, delete, "Messages deleted")


@admin.register(Attachment)
class AttachmentAdmin(ServiceOnlyAdmin):
    list_display = ["name", "size", "mime_type", "width", "height", "message", "created_at"]
    list_select_related = ["message"]
    list_filter = ["mime_type"]
    search_fields = ["name"]
    show_full_result_count = False


@admin.register(Report)
class ReportAdmin(ServiceOnlyAdmin):
    """The queue: open reports first, oldest first."""

    list_display = ["id", "status", "message_preview", "message_sender", "reporter", "reason"]
    list_display += ["created_at", "resolved_by", "resolved_at"]
    list_select_related = ["message__sender", "reporter", "resolved_by"]
    list_filter = ["status"]
    search_fields = ["reason", "message__content", "reporter__username"]
    actions = ["delete_message", "dismiss", "deactivate_sender"]

    def get_queryset(self, request):
        is_open = When(status=Report.Status.OPEN, then=Value(0))
        open_first = Case(is_open, default=Value(1), output_field=IntegerField())
        return super().get_queryset(request).order_by(open_first, "created_at")

    @admin.display(description="message")
    def message_preview(self, report: Report) -> str:
        return preview(report.message.content) or "(deleted)"

    @admin.display(description="sender")
    def message_sender(self, report: Report):
        return report.message.sender

    @admin.action(description="Delete the message for everyone", permissions=["change"])
    def delete_message(self, request, queryset):
        def delete(report):
            services.report_delete_message(report=report, moderator=request.user)

        self.run_action(request, queryset, delete, "Messages deleted")

    @admin.action(description="Dismiss", permissions=["change"])
    def dismiss(self, request, queryset):
        def dismiss(report):
            services.report_dismiss(report=report, moderator=request.user)

        self.run_action(request, queryset, dismiss, "Reports dismissed")

    @admin.action(description="Deactivate the sender", permissions=["change"])
    def deactivate_sender(self, request, queryset):
        def deactivate(report):
            services.report_deactivate_sender(report=report, moderator=request.user)

        self.run_action(request, queryset, deactivate, "Senders deactivated")
