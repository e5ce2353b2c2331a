"""Output serializers shared by the APIs."""

from rest_framework import serializers


class AuditEntryOutput(serializers.Serializer):
    """One entry of an SOS's or an incident's audit trail (common.audit.AuditEntry)."""

    action = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    by = serializers.CharField(source="actor_label")
    details = serializers.JSONField()
    created_at = serializers.DateTimeField()
