"""Admin pages for users (with role and unit) and units."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import AuthToken, Unit, UnitLocation, UnitStatusChange, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "role", "unit", "email", "is_active", "last_login")
    list_filter = ("role", "unit", "is_active", "is_superuser")
    search_fields = ("username", "email", "first_name", "last_name", "phone")
    fieldsets = BaseUserAdmin.fieldsets + (("NaariKavach", {"fields": ("role", "unit", "phone")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("NaariKavach", {"fields": ("role", "unit")}),)


class UnitLocationInline(admin.TabularInline):
    model = UnitLocation
    extra = 0
    max_num = 0
    readonly_fields = ("latitude", "longitude", "accuracy_m", "recorded_at", "reported_by")
    can_delete = False


class UnitStatusChangeInline(admin.TabularInline):
    model = UnitStatusChange
    extra = 0
    max_num = 0
    readonly_fields = ("from_status", "to_status", "actor_label", "reason", "overridden", "created_at")
    fields = readonly_fields
    can_delete = False


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("unit_number", "name", "status", "is_adhoc", "last_seen_at", "last_latitude", "last_longitude")
    list_filter = ("status", "is_adhoc")
    search_fields = ("unit_number", "name")
    # The status changes through accounts.services.unit_status_change only (officers, dispatchers, assignments).
    readonly_fields = ("status", "last_latitude", "last_longitude", "last_accuracy_m", "last_seen_at")
    inlines = [UnitLocationInline, UnitStatusChangeInline]


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    """Who is signed in, until when. Deleting a token signs that sign-in out (its sockets close too);
    keys are never shown: only their hashes are stored."""

    list_display = ("user", "created_at", "expires_at")
    list_filter = ("created_at", "expires_at")
    search_fields = ("user__username",)
    readonly_fields = ("user", "created_at", "expires_at")
    exclude = ("digest",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
