"""Output serializers shared by the APIs."""

from rest_framework import serializers

from common.actors import public_label


class AuditEntryOutput(serializers.Serializer):
    """One entry of an SOS's or an incident's audit trail (common.audit.AuditEntry)."""

    action = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    by = serializers.SerializerMethodField(help_text="Who acted: 'role:username' for responders; only the role "
                                                     "for the owner of an SOS.")
    details = serializers.JSONField()
    created_at = serializers.DateTimeField()

    def get_by(self, entry) -> str:
        # Responders see who acted; an SOS's owner (context responder=False) only the role (common.actors).
        return entry.actor_label if self.context.get("responder", True) else public_label(entry.actor_label)
