"""Admin pages for trusted contacts, live links, their messages and check-ins: read-only (the citizen's own data)."""

from django.contrib import admin

from common.admin import ReadOnlyAdmin, ReadOnlyInline
from contacts.models import CheckIn, CheckInPoint, ContactAlert, LiveLink, TrustedContact


@admin.register(TrustedContact)
class TrustedContactAdmin(ReadOnlyAdmin):
    list_display = ("owner", "name", "phone", "email", "created_at")
    list_filter = ("created_at",)
    search_fields = ("owner__username", "name", "email", "phone")


@admin.register(LiveLink)
class LiveLinkAdmin(ReadOnlyAdmin):
    list_display = ("sos_request", "contact", "created_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    exclude = ("token_hash",)


@admin.register(ContactAlert)
class ContactAlertAdmin(ReadOnlyAdmin):
    list_display = ("sos_request", "channel", "target", "attempts", "delivered_at", "last_error")
    list_filter = ("channel", ("delivered_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("target", "last_error")


class CheckInPointInline(ReadOnlyInline):
    model = CheckInPoint
    fields = ("latitude", "longitude", "accuracy_m", "recorded_at")


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ("owner", "destination", "started_at", "due_at", "completed_at", "expired_at", "sos_request")
    list_filter = (("completed_at", admin.EmptyFieldListFilter), ("expired_at", admin.EmptyFieldListFilter),
                   "started_at")
    search_fields = ("owner__username", "destination")
    exclude = ("pin_hash",)
    inlines = [CheckInPointInline]
