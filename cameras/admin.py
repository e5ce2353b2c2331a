"""Admin pages: cameras (position, view and a coverage drawn on a map), SOS links, pre-roll evidence, snapshots."""

from django import forms
from django.contrib import admin
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html

from cameras import services
from cameras.models import Camera, CameraSnapshot, SOSCameraClip, SOSCameraEvidence, SOSCameraLink
from cameras.widgets import CoverageMapWidget
from common.admin import ReadOnlyAdmin

HEALTH_FIELDS = ("reported_state", "last_heartbeat_at", "last_frame_at", "stats", "is_offline", "offline_since",
                 "back_since", "offline_incident")


class CameraForm(forms.ModelForm):
    class Meta:
        model = Camera
        fields = ("camera_id", "name", "device", "beacon", "enabled", "latitude", "longitude", "heading_deg",
                  "fov_deg", "range_m", "coverage")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coverage"].widget = CoverageMapWidget(preview_url=reverse("admin:cameras_camera_coverage_preview"))

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
            "description": "Draw the coverage on the map (click to add a corner, drag to move one) or type it as "
                           "[[latitude, longitude], ...]; leave it empty to compute it from heading, field of view "
                           "and range (shown dashed on the map).",
        }),
        ("Health", {"fields": HEALTH_FIELDS}),
    )

    def get_urls(self):
        preview = path("coverage-preview/", self.admin_site.admin_view(self.coverage_preview_json),
                       name="cameras_camera_coverage_preview")
        return [preview, *super().get_urls()]

    def coverage_preview_json(self, request):
        """The view computed from position, heading, field of view and range, for the map (cameras.geometry)."""
        if not self.has_view_or_change_permission(request):
            return JsonResponse({"error": "You may not see cameras."}, status=403)
        values = {}
        for name in ("latitude", "longitude", "heading_deg", "fov_deg", "range_m"):
            raw = request.GET.get(name, "").strip()
            try:
                values[name] = float(raw) if raw else None
            except ValueError:
                return JsonResponse({"error": "Invalid view.", "fields": {name: ["A number."]}}, status=400)
        fields = services._geometry_errors(coverage=None, **values)
        if fields:
            return JsonResponse({"error": "Invalid view.", "fields": fields}, status=400)
        return JsonResponse({"coverage": Camera(coverage=[], **values).coverage_polygon()})

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


@admin.register(CameraSnapshot)
class CameraSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("camera", "requested_by_label", "requested_at", "delivered_at", "faces_found")
    list_filter = ("camera",)


@admin.register(SOSCameraClip)
class SOSCameraClipAdmin(ReadOnlyAdmin):
    list_display = ("sos", "camera", "received_at", "frames", "size_bytes", "faces_found")
    list_filter = ("camera",)
