"""Admin page for the event outbox (read-only: events are facts, not settings)."""

from django.contrib import admin

from realtime.models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("id", "event", "rooms", "created_at")
    list_filter = ("event", "created_at")
    readonly_fields = ("event", "rooms", "payload", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
