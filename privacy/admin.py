"""Admin pages of the privacy app: the view audit (read-only, filterable)."""

from django.contrib import admin

from privacy.models import LegalHold, RetentionRun, SOSMinimisation, ViewAuditEntry


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


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    """Holds are placed and released through the API (privacy.services), which records them in the subject's trail."""

    list_display = ("subject_kind", "subject_id", "placed_by_label", "placed_at", "released_at", "reason")
    list_filter = ("subject_kind", "released_at")
    search_fields = ("subject_id", "reason", "placed_by_label")


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "finished_at", "counts")


@admin.register(SOSMinimisation)
class SOSMinimisationAdmin(ReadOnlyAdmin):
    list_display = ("sos", "minimised_at", "points_before", "points_after")
