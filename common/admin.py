"""Admin building blocks: records that only services write are shown, never edited, in Django admin."""

from django.contrib import admin, messages

from common.actors import Actor
from common.errors import DomainError

AUDIT_FIELDS = ("action", "from_status", "to_status", "actor_label", "details", "created_at")


class ReadOnlyInline(admin.TabularInline):
    """Rows of a trail (audit entries, points, assignments): shown on the parent's page, never edited."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields or [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """A model whose every change goes through a service (audit trail, realtime event): admin only shows it."""

    def get_readonly_fields(self, request, obj=None):
        hidden = set(self.exclude or ())  # hashes of secrets: neither editable nor shown
        return [field.name for field in self.model._meta.fields if field.name not in hidden]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def service_action(description: str, change):
    """An admin action that calls `change(obj, actor)` (a service) for each selected row and reports each outcome."""

    def action(model_admin, request, queryset):
        actor = Actor.for_user(request.user)
        for obj in queryset:
            try:
                change(obj, actor)
            except DomainError as exc:
                model_admin.message_user(request, f"{obj}: {exc.message}", messages.WARNING)
            else:
                model_admin.message_user(request, f"{obj}: done.", messages.SUCCESS)

    action.short_description = description
    action.__name__ = description.lower().replace(" ", "_")
    return action
