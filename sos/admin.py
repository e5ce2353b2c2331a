"""Admin pages for SOS alerts with their trail, assignments and audit trail: read-only; actions call the services."""

from django.contrib import admin

from common.admin import AUDIT_FIELDS, ReadOnlyAdmin, ReadOnlyInline, service_action
from sos import services
from sos.models import SOS, LocationUpdate, OfficerAssignment, SOSAuditEntry, SOSImage


class LocationInline(ReadOnlyInline):
    model = LocationUpdate
    fields = ("latitude", "longitude", "accuracy_m", "recorded_at", "received_at", "reported_by")


class AssignmentInline(ReadOnlyInline):
    model = OfficerAssignment
    fields = ("officer_name", "unit", "assigned_by", "assigned_at")


class ImageInline(ReadOnlyInline):
    model = SOSImage
    fields = ("file_name", "content_type", "size_bytes", "width", "height", "sha256", "description", "uploaded_at")

    @admin.display(description="File")
    def file_name(self, photo):
        return photo.image.name  # no link: photos are opened through the API, which checks who asks


class AuditInline(ReadOnlyInline):
    model = SOSAuditEntry
    fields = AUDIT_FIELDS


@admin.register(SOS)
class SOSAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "sos_type", "status", "phone", "last_position", "assigned_units", "created_at",
                    "last_located_at")
    list_filter = ("status", "sos_type", "created_at")
    search_fields = ("name", "phone", "room_id", "owner__username")
    date_hierarchy = "created_at"
    inlines = [AssignmentInline, AuditInline, ImageInline, LocationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("assignments__unit")

    @admin.display(description="Last position")
    def last_position(self, sos):
        if not sos.has_position:
            return "location pending" if sos.location_pending else "—"
        accuracy = f" ±{round(sos.accuracy_m)} m" if sos.accuracy_m else ""
        return f"{sos.last_latitude:.5f}, {sos.last_longitude:.5f}{accuracy}"

    @admin.display(description="Assigned units")
    def assigned_units(self, sos):
        return ", ".join(a.unit.unit_number for a in sos.assignments.all()) or "—"
    actions = [
        service_action("Acknowledge", lambda sos, actor: services.sos_acknowledge(sos_id=sos.pk, actor=actor)),
        service_action("Resolve", lambda sos, actor: services.sos_resolve(
            sos_id=sos.pk, actor=actor, note=f"Resolved in Django admin by {actor.label}")),
    ]


@admin.register(OfficerAssignment)
class OfficerAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("sos_request", "officer_name", "unit", "assigned_by", "assigned_at")
    list_filter = ("unit", "assigned_at")
    search_fields = ("officer_name", "unit__unit_number")


@admin.register(SOSAuditEntry)
class SOSAuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("sos_request", *AUDIT_FIELDS)
    list_filter = ("action", "to_status", "created_at")
    search_fields = ("actor_label",)
