"""Admin pages: beacons, devices (keys shown once), AI events, incidents with evidence (images, sound) and trail, alerts."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from incidents import services
from incidents.models import (
    AIEvent,
    AlertDelivery,
    Beacon,
    DeliveryAttempt,
    Device,
    Incident,
    IncidentAudio,
    IncidentAuditEntry,
    IncidentImage,
    IncidentSignal,
    hash_key,
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
            obj.api_key_hash = hash_key(raw_key)
            messages.warning(request, f"API key for {obj.device_id} (shown once, copy it now): {raw_key}")
        super().save_model(request, obj, form, change)

    @admin.action(description="Give the selected devices new API keys")
    def rotate_keys(self, request, queryset):
        for device in queryset:
            _, raw_key = services.device_key_rotate(device_id=device.device_id)
            messages.warning(request, f"New API key for {device.device_id} (shown once): {raw_key}")


class ImageInline(admin.TabularInline):
    model = IncidentImage
    extra = 0
    fields = ("download", "content_type", "size_bytes", "sha256", "description", "uploaded_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Image")
    def download(self, image):
        return _download_link(image)


class AudioInline(admin.TabularInline):
    model = IncidentAudio
    extra = 0
    fields = ("download", "content_type", "duration_s", "size_bytes", "sha256", "uploaded_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Audio")
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


class SignalInline(admin.TabularInline):
    model = IncidentSignal
    extra = 0
    fields = ("signal_type", "confidence_score", "device", "ai_event", "received_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AuditInline(admin.TabularInline):
    model = IncidentAuditEntry
    extra = 0
    fields = ("action", "from_status", "to_status", "actor_label", "details", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "priority", "status", "beacon", "signal_count", "assigned_to", "last_signal_at")
    list_filter = ("status", "priority", "kind", "beacon", "created_at")
    search_fields = ("id", "description", "beacon__beacon_id", "beacon__name", "assigned_to__username")
    date_hierarchy = "created_at"
    # Changes go through the services (audit trail, realtime events); the admin only shows.
    readonly_fields = [f.name for f in Incident._meta.fields]
    inlines = [SignalInline, ImageInline, AudioInline, AuditInline]

    def has_add_permission(self, request):
        return False


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    fields = ("number", "started_at", "duration_ms", "succeeded", "status_code", "error")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "target", "incident", "attempts", "next_attempt_at", "delivered_at")
    list_filter = ("channel", ("delivered_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("target", "incident__id", "last_error")
    readonly_fields = ("incident", "event", "channel", "target", "payload", "attempts", "claimed_until",
                       "last_error", "delivered_at", "created_at")
    inlines = [AttemptInline]

    def has_add_permission(self, request):
        return False
