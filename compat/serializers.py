"""The NaariKavach SOS shape: their field names (status_flag, acknowledged_flag, unit_number_dispatched,
user, location_updates, officer_assignments, images) alongside ours."""

from rest_framework import serializers

from sos.apis import SOSOutput
from sos.image_apis import SOSImageOutput
from sos.models import SOS


class NaariKavachLocationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sos_request = serializers.IntegerField(source="sos_request_id")
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    accuracy_m = serializers.FloatField(allow_null=True)
    timestamp = serializers.DateTimeField(source="recorded_at")


class NaariKavachAssignmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sos_request = serializers.IntegerField(source="sos_request_id")
    officer_name = serializers.CharField()
    unit_number = serializers.CharField(source="unit.unit_number")
    assigned_at = serializers.DateTimeField()


class NaariKavachSOSOutput(SOSOutput):
    status_flag = serializers.SerializerMethodField()
    acknowledged_flag = serializers.SerializerMethodField()
    unit_number_dispatched = serializers.SerializerMethodField()
    user = serializers.IntegerField(source="owner_id", allow_null=True)
    location_updates = serializers.SerializerMethodField()
    officer_assignments = NaariKavachAssignmentOutput(source="assignments", many=True)
    images = SOSImageOutput(many=True)

    class Meta(SOSOutput.Meta):
        fields = SOSOutput.Meta.fields + (
            "status_flag", "acknowledged_flag", "unit_number_dispatched", "user", "location_updates",
            "officer_assignments", "images",
        )

    def get_status_flag(self, sos: SOS) -> int:
        """1 once the SOS is closed (resolved, or cancelled by its owner): their "Resolved"."""
        return 0 if sos.is_open else 1

    def get_acknowledged_flag(self, sos: SOS) -> int:
        return 0 if sos.status == SOS.Status.ACTIVE else 1

    def get_unit_number_dispatched(self, sos: SOS) -> str | None:
        assignments = list(sos.assignments.all())
        return assignments[-1].unit.unit_number if assignments else None

    def get_location_updates(self, sos: SOS) -> list[dict]:
        # Oldest first, as their serializer listed them; the prefetch read the newest first.
        return NaariKavachLocationOutput(reversed(sos.newest_points), many=True).data
