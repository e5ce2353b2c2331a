"""Admin pages: beacons, devices (keys shown once), AI events, incidents with evidence (images, sound) and trail, alerts."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from common.admin import AUDIT_FIELDS, ReadOnlyAdmin, ReadOnlyInline, service_action
from common.tokens import hash_secret
from incidents import services
from incidents.models import (
    AIEvent,
    AlertDelivery,
    AlertTarget,
    Beacon,
    DeliveryAttempt,
    Device,
    Incident,
    IncidentAudio,
    IncidentAuditEntry,
    IncidentImage,
    IncidentSignal,
)


def _download_link(image: IncidentImage) -> str:
    # The authenticated download view: admins are responders, and evidence has no public URL.
    url = reverse("incident-image-download", args=[image.pk])
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, image.image.name)


@admin.register(Beacon)
class BeaconAdmin(admin.ModelAdmin):
    list_display = ("beacon_id", "name", "building", "floor", "latitude", "longitude", "is_active")
    list_filter = ("is_active", "building")
    search_fields = ("beacon_id", "name", "building")


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("device_id", "name", "kind", "beacon", "is_active", "last_seen_at")
    list_filter = ("kind", "is_active", "beacon")
    search_fields = ("device_id", "name", "beacon__beacon_id", "beacon__name")
    readonly_fields = ("created_at", "last_seen_at")
    actions = ["rotate_keys"]

    def save_model(self, request, obj, form, change):
        if not change:
            raw_key = services.new_device_key()
            obj.api_key_hash = hash_secret(raw_key)
            messages.warning(request, f"API key for {obj.device_id} (shown once, copy it now): {raw_key}")
        super().save_model(request, obj, form, change)

    @admin.action(description="Give the selected devices new API keys")
    def rotate_keys(self, request, queryset):
        for device in queryset:
            _, raw_key = services.device_key_rotate(device_id=device.device_id)
            messages.warning(request, f"New API key for {device.device_id} (shown once): {raw_key}")


class ImageInline(ReadOnlyInline):
    model = IncidentImage
    fields = ("download", "content_type", "size_bytes", "sha256", "description", "uploaded_at")

    @admin.display(description="Image")
    def download(self, image):
        return _download_link(image)


class AudioInline(ReadOnlyInline):
    model = IncidentAudio
    fields = ("download", "content_type", "duration_s", "size_bytes", "sha256", "uploaded_at")

    @admin.display(description="Clip")
    def download(self, clip):
        url = reverse("incident-audio-download", args=[clip.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, clip.audio.name)


@admin.register(AIEvent)
class AIEventAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "beacon", "device", "confidence_score", "threshold", "outcome", "received_at")
    list_filter = ("kind", "outcome", "received_at", "beacon")
    search_fields = ("description", "beacon__beacon_id", "beacon__name", "device__device_id")
    readonly_fields = [f.name for f in AIEvent._meta.fields]
    date_hierarchy = "received_at"
    inlines = [ImageInline, AudioInline]

    def has_add_permission(self, request):
        return False


class SignalInline(ReadOnlyInline):
    model = IncidentSignal
    fields = ("signal_type", "confidence_score", "device", "ai_event", "received_at")


class AuditInline(ReadOnlyInline):
    model = IncidentAuditEntry
    fields = AUDIT_FIELDS


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    # A sentence first (what, where, when), not the UUID: the id stays searchable and is shown on the page.
    list_display = ("summary", "priority", "status", "signal_count", "assigned_to", "last_signal_at")
    list_display_links = ("summary",)
    list_filter = ("status", "priority", "kind", "beacon", "created_at")
    search_fields = ("id", "description", "beacon__beacon_id", "beacon__name", "assigned_to__username")
    date_hierarchy = "created_at"
    inlines = [SignalInline, ImageInline, AudioInline, AuditInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("beacon", "assigned_to")

    @admin.display(description="Incident", ordering="created_at")
    def summary(self, incident):
        place = incident.beacon.name or incident.beacon.beacon_id
        return f"{incident.get_kind_display()} at {place}, {incident.created_at:%d %b %H:%M}"

    actions = [
        service_action("Acknowledge", lambda incident, actor: services.incident_acknowledge(
            incident_id=incident.pk, actor=actor)),
        service_action("Resolve", lambda incident, actor: services.incident_resolve(
            incident_id=incident.pk, actor=actor, resolution_note=f"Resolved in Django admin by {actor.label}")),
    ]


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    fields = ("number", "started_at", "duration_ms", "succeeded", "status_code", "error")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class DeliveryStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("pending", "Pending"), ("delivered", "Delivered"), ("dead", "Dead")]

    def queryset(self, request, queryset):
        return {
            "pending": queryset.filter(delivered_at__isnull=True, dead_at__isnull=True),
            "delivered": queryset.filter(delivered_at__isnull=False),
            "dead": queryset.filter(dead_at__isnull=False),
        }.get(self.value(), queryset)


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "channel", "target", "incident", "sos", "attempts", "state", "last_error_short",
                    "next_attempt_at")
    list_filter = (DeliveryStateFilter, "channel", "event", "created_at")
    search_fields = ("target", "incident__id", "sos__id", "last_error")
    readonly_fields = ("incident", "sos", "event", "channel", "target", "format", "payload", "attempts",
                       "claimed_until", "claimed_by", "last_error", "delivered_at", "dead_at", "created_at")
    inlines = [AttemptInline]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="State")
    def state(self, delivery):
        return "delivered" if delivery.delivered_at else "DEAD" if delivery.dead_at else "pending"

    @admin.display(description="Last error")
    def last_error_short(self, delivery):
        return delivery.last_error[:120]

    @admin.action(description="Retry the selected alerts now")
    def retry(self, request, queryset):
        retried = 0
        for delivery in queryset.filter(delivered_at__isnull=True):
            services.alert_delivery_retry(delivery_id=delivery.pk)
            retried += 1
        messages.info(request, f"{retried} alert(s) queued again.")


@admin.register(AlertTarget)
class AlertTargetAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "target", "format", "events", "is_supervisor", "is_active")
    list_filter = ("channel", "format", "is_supervisor", "is_active")
    search_fields = ("name", "target")
