"""The audit entry every app's trail is made of: who changed what on one object, and when.

Written by services only, never edited (admin shows it read-only).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150, help_text="Who acted, kept even if the account is deleted.")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # The field that points at the object whose trail this is ("sos_request", "incident").
    subject_field: str = ""

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    @classmethod
    def append(cls, entry: "AuditEntry") -> "AuditEntry":
        """Add a prepared entry to its trail."""
        entry.save(force_insert=True)
        return entry

    @classmethod
    def record(cls, subject, *, action: str, actor, from_status: str = "", details: dict | None = None):
        """Add an entry for `subject` (its current status is the entry's to_status); `actor` is a common.actors.Actor."""
        return cls.append(cls(
            **{cls.subject_field: subject},
            action=action,
            from_status=from_status,
            to_status=subject.status,
            actor=actor.db_user,
            actor_label=actor.label,
            details=details or {},
        ))
