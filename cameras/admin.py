"""Admin pages: cameras (position, view and coverage, with a preview of the computed polygon) and SOS links."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from cameras import services
from cameras.models import Camera, SOSCameraEvidence, SOSCameraLink
from common.admin import ReadOnlyAdmin

HEALTH_FIELDS = ("reported_state", "last_heartbeat_at", "last_frame_at", "stats", "is_offline", "offline_since",
                 "back_since", "offline_incident")


class CameraForm(forms.ModelForm):
    class Meta:
        model = Camera
        fields = ("camera_id", "name", "device", "beacon", "enabled", "latitude", "longitude", "heading_deg",
                  "fov_deg", "range_m", "coverage")

    def clean(self):
        data = super().clean()
        if any(name in self.errors for name in ("latitude", "longitude")):
            return data
        fields = services._geometry_errors(
            latitude=data.get("latitude"), longitude=data.get("longitude"), heading_deg=data.get("heading_deg"),
            fov_deg=data.get("fov_deg"), range_m=data.get("range_m"), coverage=data.get("coverage"),
        )
        for name, messages in fields.items():
            self.add_error(name if name in self.fields else None, messages)
        return data


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    """Registry fields are edited here; health fields are written by heartbeats and the offline check only."""

    form = CameraForm
    list_display = ("camera_id", "name", "device", "beacon", "enabled", "health_label", "last_heartbeat_at")
    list_filter = ("enabled", "is_offline", "beacon")
    search_fields = ("camera_id", "name", "device__device_id", "beacon__beacon_id")
    readonly_fields = ("coverage_preview", *HEALTH_FIELDS)
    fieldsets = (
        (None, {"fields": ("camera_id", "name", "device", "beacon", "enabled")}),
        ("Where and what it sees", {
            "fields": ("latitude", "longitude", "heading_deg", "fov_deg", "range_m", "coverage", "coverage_preview"),
            "description": "Draw the coverage as [[latitude, longitude], ...], or leave it empty to compute it "
                           "from heading, field of view and range. Save to refresh the preview.",
        }),
        ("Health", {"fields": HEALTH_FIELDS}),
    )

    @admin.display(description="health")
    def health_label(self, camera: Camera) -> str:
        return camera.health

    @admin.display(description="coverage in use")
    def coverage_preview(self, camera: Camera) -> str:
        if camera.pk is None:
            return "-"
        points = camera.coverage_polygon()
        source = "drawn" if camera.coverage else "computed"
        return format_html("<code>{}</code> ({}, {} points)",
                           ", ".join(f"[{lat:.6f}, {lng:.6f}]" for lat, lng in points), source, len(points))


@admin.register(SOSCameraLink)
class SOSCameraLinkAdmin(ReadOnlyAdmin):
    list_display = ("sos", "camera", "source", "reason", "linked_at", "left_at")
    list_filter = ("source",)
    search_fields = ("camera__camera_id", "sos__id")


@admin.register(SOSCameraEvidence)
class SOSCameraEvidenceAdmin(ReadOnlyAdmin):
    list_display = ("sos", "camera", "captured_at", "received_at", "size_bytes")
    list_filter = ("camera",)
