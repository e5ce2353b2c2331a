"""Admin pages: escalation policies with their steps (editable), and the escalations that fired (read-only)."""

from django.contrib import admin

from response.models import Escalation, EscalationPolicy, EscalationStep


class StepInline(admin.TabularInline):
    model = EscalationStep
    extra = 1
    fields = ("level", "label", "in_status", "after_seconds", "realert_dashboards", "notify_supervisors",
              "notify_dispatchers", "webhook_url", "raise_priority", "is_active")


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "kind", "priority", "is_active")
    list_filter = ("source", "is_active")
    inlines = [StepInline]


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ("id", "sos", "incident", "level", "in_status", "reason", "key", "fired_at")
    list_filter = ("level", "reason", "fired_at")
    readonly_fields = [f.name for f in Escalation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
