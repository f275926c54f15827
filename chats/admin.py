"""Chats and memberships for moderators. Read-only pages; the one change, deleting a chat for
everyone, is an action through chats.services (members hear of it), never a direct write."""

from django.contrib import admin, messages
from django.db.models import Count

from chatproject.admin import ReadOnlyAdminMixin
from chats import services
from chats.models import Chat, Membership


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Membership
    fields = ["user", "role", "joined_at", "last_read_seq", "cleared_seq", "is_hidden"]
    readonly_fields = fields
    ordering = ["joined_at", "id"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Chat)
class ChatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "type", "members_count", "last_seq", "last_activity_at"]
    list_display += ["created_at"]
    list_filter = ["type"]
    search_fields = ["name"]
    ordering = ["-last_activity_at", "-id"]
    readonly_fields = ["id", "type", "name", "description", "avatar", "created_by"]
    readonly_fields += ["created_at", "last_activity_at", "last_seq", "version"]
    inlines = [MembershipInline]
    actions = ["delete_for_everyone"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members_count=Count("memberships"))

    @admin.display(description="members", ordering="members_count")
    def members_count(self, chat: Chat) -> int:
        return chat.members_count

    @admin.action(description="Delete for everyone", permissions=["change"])
    def delete_for_everyone(self, request, queryset):
        chat_ids = list(queryset.values_list("pk", flat=True))
        for chat_id in chat_ids:
            services.chat_destroy(chat_id=chat_id)
        self.message_user(request, f"Chats deleted: {len(chat_ids)}.", messages.SUCCESS)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "chat", "role", "joined_at", "last_read_seq", "cleared_seq"]
    list_display += ["is_hidden"]
    list_select_related = ["user", "chat"]
    list_filter = ["role", "is_hidden", "chat__type"]
    search_fields = ["user__username", "chat__name"]
    ordering = ["-joined_at", "-id"]
    readonly_fields = ["chat", "user", "role", "joined_at", "last_read_seq", "cleared_seq"]
    readonly_fields += ["is_hidden"]
    show_full_result_count = False
