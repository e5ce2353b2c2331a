"""Reads of the view audit."""

from django.db.models import QuerySet

from privacy.models import ViewAuditEntry


def view_audit_for(*, subject_kind: str, subject_id) -> QuerySet[ViewAuditEntry]:
    """Every recorded look at one subject, oldest first."""
    return ViewAuditEntry.objects.filter(subject_kind=subject_kind, subject_id=str(subject_id)).order_by(
        "created_at", "id"
    )
