"""The console's one-request snapshot (the open queue with recent trails, assignments and levels, the units and
what closed recently) and its paginated history of closed alerts."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.permissions import IsResponder
from common.errors import NotFound
from common.ratelimit import client_address
from console import selectors
from privacy import services as privacy_services
from sos.models import SOS
from sos.permissions import actor_from_request, require_may_see
from incidents.apis import IncidentOutput
from sos.apis import AssignmentOutput, LocationOutput, SOSOutput, UnitOutput


class _AlertFields(serializers.Serializer):
    kind = serializers.CharField()
    sos = serializers.SerializerMethodField()
    incident = serializers.SerializerMethodField()

    def get_sos(self, item) -> dict | None:
        return SOSOutput(item.alert).data if item.kind == "sos" else None

    def get_incident(self, item) -> dict | None:
        return IncidentOutput(item.alert, context=self.context).data if item.kind == "incident" else None


class QueueItemOutput(_AlertFields):
    needs_acknowledgement = serializers.BooleanField()
    waiting_since = serializers.DateTimeField()
    status_since = serializers.DateTimeField(allow_null=True, help_text="When it entered its current status.")
    level = serializers.IntegerField(help_text="Its highest escalation level (0: not escalated).")
    level_label = serializers.CharField()
    trail = LocationOutput(many=True)
    assignments = AssignmentOutput(many=True)


class ClosedItemOutput(_AlertFields):
    closed_at = serializers.DateTimeField()
    how = serializers.CharField(help_text="resolved, cancelled (by the citizen) or cancelled_on_behalf.")
    note = serializers.CharField()
    closed_by = serializers.CharField(help_text="Who closed it, as the audit trail names them.")


class QueueOutput(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    items = QueueItemOutput(many=True)
    units = UnitOutput(many=True)
    recently_closed = ClosedItemOutput(many=True)


class QueueApi(APIView):
    """Everything open (SOS alerts and incidents together), most urgent first, with the units and what closed in the
    last two hours: one request."""

    permission_classes = [IsResponder]

    class FilterSerializer(serializers.Serializer):
        trail_points = serializers.IntegerField(min_value=0, max_value=selectors.MAX_TRAIL_POINTS,
                                                default=selectors.DEFAULT_TRAIL_POINTS)

    @extend_schema(parameters=[FilterSerializer], responses=QueueOutput)
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        now = timezone.now()
        snapshot = {
            "generated_at": now,
            "items": selectors.open_queue(trail_points=params.validated_data["trail_points"]),
            "units": selectors.units_on_duty(),
            "recently_closed": selectors.recently_closed(now=now),
        }
        return Response(QueueOutput(snapshot, context={"request": request}).data)


class HistoryOutput(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = ClosedItemOutput(many=True)


class HistoryApi(APIView):
    """Closed alerts, newest closure first, with who closed each and their note: paginated, filtered."""

    permission_classes = [IsResponder]
    PAGE_SIZE = 25

    class FilterSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=["", "sos", "incident"], default="", required=False)
        q = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
        page = serializers.IntegerField(min_value=1, max_value=10_000, default=1)

    @extend_schema(parameters=[FilterSerializer], responses=HistoryOutput)
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        items, total = selectors.closed_alerts(kind=v["kind"], q=v["q"].strip(), offset=(v["page"] - 1) * self.PAGE_SIZE,
                                               limit=self.PAGE_SIZE)
        pages = max(1, -(-total // self.PAGE_SIZE))
        return Response(HistoryOutput({"count": total, "page": v["page"], "pages": pages, "results": items},
                                      context={"request": request}).data)


class TrailPageOutput(serializers.Serializer):
    points = LocationOutput(many=True)
    has_more = serializers.BooleanField()


class TrailPageApi(APIView):
    """An SOS's trail, a page at a time, newest first, before a point in time (the detail shows the newest points;
    this fetches older ones). Each page read is recorded like the detail's trail read."""

    permission_classes = [IsResponder]

    class FilterSerializer(serializers.Serializer):
        before = serializers.DateTimeField()
        limit = serializers.IntegerField(min_value=1, max_value=500, default=100)

    @extend_schema(parameters=[FilterSerializer], responses=TrailPageOutput)
    def get(self, request, sos_id: int):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        sos = SOS.objects.filter(pk=sos_id).first()
        if sos is None:
            raise NotFound("SOS not found")
        actor = actor_from_request(request)
        require_may_see(actor, sos)
        privacy_services.sos_trail_read_record(sos_id=sos.pk, actor=actor, ip_address=client_address(request))
        points, has_more = selectors.trail_page(sos_id=sos.pk, **params.validated_data)
        return Response(TrailPageOutput({"points": points, "has_more": has_more}).data)
