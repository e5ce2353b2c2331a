"""Admin pages of the privacy app: the view audit (read-only, filterable)."""

from django.contrib import admin

from privacy.models import ViewAuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records nobody may add, change or delete by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ViewAuditEntry)
class ViewAuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_label", "action", "subject_kind", "subject_id", "image_id", "delivery",
                    "ip_address", "reason")
    list_filter = ("action", "subject_kind", "delivery", "created_at")
    search_fields = ("actor_label", "subject_id", "ip_address", "reason")
    date_hierarchy = "created_at"
