"""What the moderators' admin pages share."""


class ReadOnlyAdminMixin:
    """Pages to look at; actions (through services, so members hear of the change) are the
    only way to change anything."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)
