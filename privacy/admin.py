"""Admin pages of the privacy app: every record read-only and filterable (changes go through the services)."""

from django.contrib import admin

from common.admin import ReadOnlyAdmin
from privacy.models import CitizenDeletion, LegalHold, RedactedImage, RetentionRun, SOSMinimisation, ViewAuditEntry


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
    list_filter = ("started_at",)


@admin.register(SOSMinimisation)
class SOSMinimisationAdmin(ReadOnlyAdmin):
    list_display = ("sos", "minimised_at", "points_before", "points_after")
    list_filter = ("minimised_at",)


@admin.register(RedactedImage)
class RedactedImageAdmin(ReadOnlyAdmin):
    """Derivatives with faces blurred, made from the originals (which stay untouched); remade when stale."""

    list_display = ("image", "faces_found", "detector", "created_at")
    list_filter = ("detector", "created_at")


@admin.register(CitizenDeletion)
class CitizenDeletionAdmin(ReadOnlyAdmin):
    """What a citizen's deletion request removed and what was kept, and why (counts, never contents)."""

    list_display = ("requested_at", "deleted", "kept")
    list_filter = ("requested_at",)
