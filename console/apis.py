"""The console's one-request snapshot (the open queue with recent trails, assignments and levels, the units and
what closed recently) and its paginated history of closed alerts."""

from datetime import UTC

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Unit
from common.actors import Actor, sees_everything
from common.api.permissions import IsResponder
from common.errors import NotFound
from common.geo import LATITUDE_FIELD, LONGITUDE_FIELD
from common.ratelimit import client_address
from console import areas, selectors
from incidents.apis import IncidentOutput
from privacy import services as privacy_services
from sos.apis import AssignmentOutput, LocationOutput, SOSOutput, UnitOutput
from sos.models import SOS
from sos.permissions import actor_from_request, officer_covers, require_may_see


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
        viewer = actor_from_request(request)
        return Response({
            "generated_at": _moment(now),
            "items": queue_payload(selectors.open_queue(trail_points=params.validated_data["trail_points"]), request,
                                   viewer=viewer),
            "units": UnitOutput(selectors.units_on_duty(), many=True).data,
            "recently_closed": closed_payload(selectors.recently_closed(now=now, viewer=viewer), request),
        })


# The snapshot is the console's first paint: 200 alerts with 50 points each is 10,000 points. The SOS rows and the
# points are written as plain dicts, the incidents and assignments with one list serializer per kind of row (a
# ModelSerializer builds its fields once per instance otherwise), in QueueOutput's shape (tests/test_queue.py checks
# the two agree, field by field). bench/bench_console_queue.py measures it.
_moment = serializers.DateTimeField().to_representation


def _iso(zone):
    """DRF's rendering of a time (in the current time zone, UTC as Z) without its per-call overhead."""
    if str(zone) in ("UTC", "Etc/UTC"):
        # The usual case, at under half the cost: a naive time's isoformat is several times faster than an aware one's.
        def render_utc(moment) -> str:
            return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
        return render_utc

    def render(moment) -> str:
        text = moment.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return render


def _points(trail, iso) -> list[dict]:
    return [{"latitude": p.latitude, "longitude": p.longitude, "accuracy_m": p.accuracy_m,
             "recorded_at": iso(p.recorded_at)} for p in trail]


def _sos_rows(alerts, iso) -> dict[int, dict]:
    """SOSOutput's fields for each SOS, as the console (no actor in the context) gets them, read directly: DRF's
    per-field calls cost ~0.3 ms an alert. test_queue.py checks every field against SOSOutput."""
    def at(moment):
        return iso(moment) if moment is not None else None

    def last_known(sos):
        if sos.last_known_latitude is None:
            return None
        return {"latitude": sos.last_known_latitude, "longitude": sos.last_known_longitude,
                "accuracy_m": sos.last_known_accuracy_m, "recorded_at": at(sos.last_known_at),
                "age_s": sos.last_known_age_s()}

    return {sos.pk: {
        "id": sos.pk, "sos_id": sos.pk, "room_id": str(sos.room_id), "name": sos.name, "sos_type": sos.sos_type,
        "status": sos.status, "is_open": sos.is_open, "phone": sos.phone, "latitude": sos.last_latitude,
        "longitude": sos.last_longitude, "last_located_at": at(sos.last_located_at),
        "initial_latitude": sos.initial_latitude, "initial_longitude": sos.initial_longitude,
        "accuracy_m": sos.accuracy_m, "location_pending": sos.location_pending, "suspected_flood": sos.suspected_flood,
        "flood_source": sos.flood_source, "duress_at": at(sos.duress_at), "has_cancel_pin": sos.has_cancel_pin,
        "last_known": last_known(sos), "device_hints": sos.device_hints, "created_at": at(sos.created_at),
        "updated_at": at(sos.updated_at), "closed_at": at(sos.closed_at), "distance_km": None,
    } for sos in alerts}


def _alerts(items, request) -> tuple[dict, dict]:
    sos = [item.alert for item in items if item.kind == "sos"]
    incidents = [item.alert for item in items if item.kind == "incident"]
    sos_rows = dict(zip([s.pk for s in sos], SOSOutput(sos, many=True).data))
    incident_rows = dict(zip([i.pk for i in incidents], IncidentOutput(incidents, many=True, context={"request": request}).data))
    return sos_rows, incident_rows


def _alert_fields(item, sos_rows, incident_rows) -> dict:
    return {"kind": item.kind, "sos": sos_rows.get(item.alert.pk) if item.kind == "sos" else None,
            "incident": incident_rows.get(item.alert.pk) if item.kind == "incident" else None}


def queue_payload(items, request, *, viewer: Actor | None = None) -> list[dict]:
    iso = _iso(timezone.get_current_timezone())
    sos_rows = _sos_rows([item.alert for item in items if item.kind == "sos"], iso)
    if viewer is not None and not sees_everything(viewer):
        # An officer sees every open alert but a victim's phone number only on their unit's (docs/security.md).
        for item in items:
            if item.kind == "sos" and not officer_covers(viewer, {a.unit_id for a in item.assignments}):
                sos_rows[item.alert.pk]["phone"] = ""
    incidents = [item.alert for item in items if item.kind == "incident"]
    incident_rows = dict(zip([i.pk for i in incidents],
                             IncidentOutput(incidents, many=True, context={"request": request}).data))
    every_assignment = [assignment for item in items for assignment in item.assignments]
    by_sos: dict[int, list] = {}
    for assignment, row in zip(every_assignment, AssignmentOutput(every_assignment, many=True).data):
        by_sos.setdefault(assignment.sos_request_id, []).append(row)
    return [{
        **_alert_fields(item, sos_rows, incident_rows),
        "needs_acknowledgement": item.needs_acknowledgement,
        "waiting_since": iso(item.waiting_since),
        "status_since": iso(item.status_since) if item.status_since else None,
        "level": item.level,
        "level_label": item.level_label,
        "trail": _points(item.trail, iso),
        "assignments": by_sos.get(item.alert.pk, []) if item.kind == "sos" else [],
    } for item in items]


def closed_payload(items, request) -> list[dict]:
    sos_rows, incident_rows = _alerts(items, request)
    return [{**_alert_fields(item, sos_rows, incident_rows), "closed_at": _moment(item.closed_at), "how": item.how,
             "note": item.note, "closed_by": item.closed_by} for item in items]


class HistoryOutput(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    without_position = serializers.IntegerField(
        help_text="With an area filter: how many closed alerts match the other filters but have no position "
                  "(never located), and so are not in any area. 0 without an area.")
    results = ClosedItemOutput(many=True)


class HistoryApi(APIView):
    """Closed alerts, newest closure first, with who closed each and their note: paginated, filtered."""

    permission_classes = [IsResponder]
    PAGE_SIZE = 25

    class FilterSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=["", "sos", "incident"], default="", required=False)
        q = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
        status = serializers.ChoiceField(choices=["", *selectors.HISTORY_STATUSES], default="", required=False,
                                         help_text="resolved, or cancelled (by the citizen or on her behalf).")
        priority = serializers.ChoiceField(choices=["", *selectors.HISTORY_PRIORITIES], default="", required=False,
                                           help_text="An SOS emergency counts as critical, an SOS alert as high.")
        unit = serializers.CharField(max_length=32, required=False, default="", allow_blank=True,
                                     help_text="A unit number: alerts that unit was assigned to.")
        lat = serializers.FloatField(required=False, **LATITUDE_FIELD,
                                     help_text="The centre of a radius area (with lng and km).")
        lng = serializers.FloatField(required=False, **LONGITUDE_FIELD, help_text="The centre of a radius area.")
        km = serializers.FloatField(required=False, min_value=0.01, max_value=areas.MAX_RADIUS_KM,
                                    help_text="The radius of the area, in km around lat, lng.")
        area = serializers.CharField(
            required=False, max_length=2000, allow_blank=True,
            help_text=f"A polygon drawn on the map: {areas.MIN_VERTICES} to {areas.MAX_VERTICES} vertices as "
                      "lat,lng;lat,lng;... Only alerts whose last position lies inside (or on its edge) are listed; "
                      "an alert never located lies in no area.")
        page = serializers.IntegerField(min_value=1, max_value=10_000, default=1)

        def validate_area(self, value: str) -> areas.Polygon | None:
            if not value.strip():
                return None
            try:
                return areas.parse_polygon(value)
            except ValueError as error:
                raise serializers.ValidationError(str(error)) from None

        def validate(self, attrs: dict) -> dict:
            radius = {name: attrs.get(name) for name in ("lat", "lng", "km")}
            given = {name for name, value in radius.items() if value is not None}
            if given and given != set(radius):
                missing = sorted(set(radius) - given)
                raise serializers.ValidationError({name: ["A radius area needs lat, lng and km together."]
                                                   for name in missing})
            if given and attrs.get("area"):
                raise serializers.ValidationError(
                    {"area": ["Give a polygon area or a radius (lat, lng, km), not both."]})
            circle = areas.Circle(radius["lat"], radius["lng"], radius["km"]) if given else None
            attrs["where"] = attrs.get("area") or circle
            return attrs

        def validate_unit(self, value: str) -> str:
            value = value.strip()
            if value and not Unit.objects.filter(unit_number=value).exists():
                raise serializers.ValidationError(f"There is no unit {value}.")
            return value

    @extend_schema(parameters=[FilterSerializer], responses=HistoryOutput, examples=[
        OpenApiExample("A polygon with too few vertices", response_only=True, status_codes=["400"], value={
            "error": "Invalid input: area: Give at least 3 vertices as lat,lng;lat,lng;lat,lng.", "code": "invalid",
            "fields": {"area": ["Give at least 3 vertices as lat,lng;lat,lng;lat,lng."]}}),
        OpenApiExample("A radius without its centre", response_only=True, status_codes=["400"], value={
            "error": "Invalid input: lat: A radius area needs lat, lng and km together.", "code": "invalid",
            "fields": {"lat": ["A radius area needs lat, lng and km together."],
                       "lng": ["A radius area needs lat, lng and km together."]}}),
    ])
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        filters = {"kind": v["kind"], "q": v["q"].strip(), "status": v["status"], "priority": v["priority"],
                   "unit": v["unit"], "viewer": actor_from_request(request)}
        items, total = selectors.closed_alerts(**filters, area=v["where"], offset=(v["page"] - 1) * self.PAGE_SIZE,
                                               limit=self.PAGE_SIZE)
        unplaced = selectors.closed_without_position(**filters) if v["where"] else 0
        pages = max(1, -(-total // self.PAGE_SIZE))
        return Response({"count": total, "page": v["page"], "pages": pages, "without_position": unplaced,
                         "results": closed_payload(items, request)})


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
