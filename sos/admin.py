"""Admin pages for SOS alerts with their trail, assignments and (read-only) audit trail."""

from django.contrib import admin

from sos.models import SOS, LocationUpdate, OfficerAssignment, SOSAuditEntry, SOSImage


class LocationInline(admin.TabularInline):
    model = LocationUpdate
    extra = 0
    readonly_fields = ("latitude", "longitude", "accuracy_m", "recorded_at", "received_at", "reported_by")
    can_delete = False


class AssignmentInline(admin.TabularInline):
    model = OfficerAssignment
    extra = 0
    readonly_fields = ("officer_name", "unit", "assigned_by", "assigned_at")
    can_delete = False


class PhotoInline(admin.TabularInline):
    """The citizen's photos: what they are, not the files (those are served to responders by the API)."""

    model = SOSImage
    extra = 0
    fields = readonly_fields = ("description", "content_type", "size_bytes", "width", "height", "sha256", "uploaded_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AuditInline(admin.TabularInline):
    model = SOSAuditEntry
    extra = 0
    readonly_fields = ("action", "from_status", "to_status", "actor_label", "details", "created_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SOS)
class SOSAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "sos_type", "status", "owner", "created_at", "last_located_at")
    list_filter = ("status", "sos_type", "created_at")
    search_fields = ("name", "phone", "room_id", "owner__username")
    readonly_fields = ("room_id", "access_token_hash", "created_at", "updated_at", "closed_at")
    date_hierarchy = "created_at"
    inlines = [AssignmentInline, PhotoInline, AuditInline, LocationInline]


@admin.register(OfficerAssignment)
class OfficerAssignmentAdmin(admin.ModelAdmin):
    list_display = ("sos_request", "officer_name", "unit", "assigned_by", "assigned_at")
    list_filter = ("unit", "assigned_at")
    search_fields = ("officer_name", "unit__unit_number")


@admin.register(SOSAuditEntry)
class SOSAuditEntryAdmin(admin.ModelAdmin):
    list_display = ("sos_request", "action", "from_status", "to_status", "actor_label", "created_at")
    list_filter = ("action", "to_status", "created_at")
    search_fields = ("actor_label",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
