"""The console's one-request snapshot: the open queue with recent trails and assignments, and the units."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.permissions import IsResponder
from console import selectors
from incidents.apis import IncidentOutput
from sos.apis import AssignmentOutput, LocationOutput, SOSOutput, UnitOutput


class QueueItemOutput(serializers.Serializer):
    kind = serializers.CharField()
    needs_acknowledgement = serializers.BooleanField()
    waiting_since = serializers.DateTimeField()
    sos = serializers.SerializerMethodField()
    incident = serializers.SerializerMethodField()
    trail = LocationOutput(many=True)
    assignments = AssignmentOutput(many=True)

    def get_sos(self, item) -> dict | None:
        return SOSOutput(item.alert).data if item.kind == "sos" else None

    def get_incident(self, item) -> dict | None:
        return IncidentOutput(item.alert, context=self.context).data if item.kind == "incident" else None


class QueueOutput(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    items = QueueItemOutput(many=True)
    units = UnitOutput(many=True)


class QueueApi(APIView):
    """Everything open (SOS alerts and incidents together), most urgent first, with the units: one request."""

    permission_classes = [IsResponder]

    class FilterSerializer(serializers.Serializer):
        trail_points = serializers.IntegerField(min_value=0, max_value=selectors.MAX_TRAIL_POINTS,
                                                default=selectors.DEFAULT_TRAIL_POINTS)

    @extend_schema(parameters=[FilterSerializer], responses=QueueOutput)
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        snapshot = {
            "generated_at": timezone.now(),
            "items": selectors.open_queue(trail_points=params.validated_data["trail_points"]),
            "units": selectors.units_on_duty(),
        }
        return Response(QueueOutput(snapshot, context={"request": request}).data)
