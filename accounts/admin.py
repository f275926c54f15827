"""The user admin for moderators. Changes that end sessions (deactivation, a new password,
force logout) go through accounts.services; accounts are never deleted here: deactivate
them, and owners delete their own through the API (which cleans up chats and messages)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm

from accounts import presence, services
from accounts.models import User


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email", "full_name")


class UserChangeForm(DjangoUserChangeForm):
    class Meta(DjangoUserChangeForm.Meta):
        model = User


class PasswordChangeForm(AdminPasswordChangeForm):
    """A new password set here ends the user's sessions, as any password change does."""

    def save(self, commit=True):
        usable = self.cleaned_data["set_usable_password"]
        password = self.cleaned_data["password1"] if usable else None
        services.user_set_password(user=self.user, password=password)
        return self.user


class OnlineFilter(admin.SimpleListFilter):
    title = "online now"
    parameter_name = "online"

    def lookups(self, request, model_admin):
        return (("yes", "Online"), ("no", "Offline"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=presence.online_user_ids())
        if self.value() == "no":
            return queryset.exclude(pk__in=presence.online_user_ids())
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = PasswordChangeForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Profile", {"fields": ("full_name", "email", "mobile_no", "bio", "status", "avatar")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "last_seen", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "full_name", "usable_password"),
            },
        ),
        (None, {"fields": ("password1", "password2")}),
    )
    readonly_fields = ("is_active", "avatar", "last_login", "last_seen", "date_joined")
    list_display = ("username", "email", "full_name", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", OnlineFilter, "is_staff", "date_joined")
    search_fields = ("username", "full_name", "email")
    ordering = ("username",)
    filter_horizontal = ("groups",)
    actions = ("deactivate", "reactivate", "force_logout")

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Deactivate (ends all their sessions)")
    def deactivate(self, request, queryset):
        for user in queryset:
            services.user_deactivate(user=user)
        self.message_user(request, f"Deactivated {len(queryset)} user(s).", messages.SUCCESS)

    @admin.action(description="Reactivate")
    def reactivate(self, request, queryset):
        for user in queryset:
            services.user_reactivate(user=user)
        self.message_user(request, f"Reactivated {len(queryset)} user(s).", messages.SUCCESS)

    @admin.action(description="Force logout (ends all their sessions)")
    def force_logout(self, request, queryset):
        for user in queryset:
            services.sessions_end_all(user=user)
        self.message_user(request, f"Logged out {len(queryset)} user(s).", messages.SUCCESS)
