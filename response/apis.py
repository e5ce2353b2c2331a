"""Thin DRF views for response: the escalation board, unit status, nearest units."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Unit
from common import cap
from common.actors import Actor, is_supervisor
from common.api.permissions import IsResponder
from common.errors import Conflict, NotFound
from incidents.models import Incident
from incidents.permissions import require_may_see_incident
from response import selectors, services
from sos.models import SOS
from sos.permissions import require_may_see


class BoardRow(serializers.Serializer):
    status = serializers.CharField()
    status_since = serializers.DateTimeField()
    level = serializers.IntegerField(help_text="0: not escalated.")
    label = serializers.CharField()


class EscalationBoardApi(APIView):
    """Every open SOS and incident with its escalation level and when it entered its status (responders)."""

    permission_classes = [IsResponder]

    class OutputSerializer(serializers.Serializer):
        sos = inline_serializer("BoardSOS", {"sos_id": serializers.IntegerField(), **BoardRow().fields}, many=True)
        incidents = inline_serializer("BoardIncident", {"incident_id": serializers.UUIDField(), **BoardRow().fields},
                                      many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response(self.OutputSerializer(selectors.escalation_board()).data)


# Units ------------------------------------------------------------------------------------------


class UnitStatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Unit.Status.choices)


class UnitStatusApi(APIView):
    """An officer sets their unit's status (en_route, on_scene, available, off_duty); a dispatcher may
    set any unit's, overriding the lifecycle. On scene also moves the unit's SOS and incidents on."""

    permission_classes = [IsResponder]
    # A module-level class: its name is this operation's schema component (a nested "InputSerializer"
    # would collide with the other views' "Input").
    InputSerializer = UnitStatusInputSerializer

    @extend_schema(request=InputSerializer, responses={200: inline_serializer("UnitStatus", {
        "unit_number": serializers.CharField(), "status": serializers.CharField()})})
    def post(self, request, unit_number):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        unit = services.unit_status_report(unit_number=unit_number, status=data.validated_data["status"],
                                           actor=Actor.for_user(request.user))
        return Response({"unit_number": unit.unit_number, "status": unit.status})


class NearbyUnitOutput(serializers.Serializer):
    unit_number = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    last_seen_at = serializers.DateTimeField()
    distance_km = serializers.FloatField()
    eta_minutes = serializers.FloatField(help_text="Straight line at UNIT_ETA_SPEED_KMH: a rough guide.")
    officers = serializers.ListField(child=serializers.CharField(), help_text="The unit's roster (usernames).")


class NearestUnitsApi(APIView):
    """Units nearest an alert, available first, ignoring positions older than UNIT_POSITION_MAX_AGE_SECONDS."""

    permission_classes = [IsResponder]

    class QuerySerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=50, default=5)

    def position(self, actor: Actor, **kwargs) -> tuple[float, float]:
        raise NotImplementedError

    @extend_schema(parameters=[QuerySerializer], responses={200: NearbyUnitOutput(many=True)})
    def get(self, request, **kwargs):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        latitude, longitude = self.position(Actor.for_user(request.user), **kwargs)
        units = selectors.units_nearest(latitude=latitude, longitude=longitude, now=timezone.now(),
                                        limit=query.validated_data["limit"])
        return Response(NearbyUnitOutput(units, many=True).data)


class SOSNearestUnitsApi(NearestUnitsApi):
    def position(self, actor: Actor, *, sos_id):
        sos = SOS.objects.filter(pk=sos_id).first()
        if sos is None:
            raise NotFound("SOS not found")
        require_may_see(actor, sos)
        if sos.last_latitude is None:
            raise Conflict("This SOS has no position yet (location pending).", code="no_position")
        return sos.last_latitude, sos.last_longitude


class IncidentNearestUnitsApi(NearestUnitsApi):
    def position(self, actor: Actor, *, incident_id):
        incident = Incident.objects.select_related("beacon", "assigned_to").filter(pk=incident_id).first()
        if incident is None:
            raise NotFound("Incident not found.")
        require_may_see_incident(actor, incident)
        if incident.beacon.latitude is None:
            raise Conflict("This incident's beacon has no position.", code="no_position")
        return incident.beacon.latitude, incident.beacon.longitude


# Reports ----------------------------------------------------------------------------------------


class IsDispatchSupervisor(BasePermission):
    message = "Only dispatchers and admins may read reports."

    def has_permission(self, request, view):
        # The one rule for supervisors (also the dashboard's report page's).
        return is_supervisor(request.user)


def _moment(value: str, *, end: bool) -> datetime:
    """A date (a whole day in TIME_ZONE; `end`: up to the end of that day) or an ISO 8601 date-time."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        moment = datetime.fromisoformat(value)
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start + timedelta(days=1) if end else start


class ResponseTimesApi(APIView):
    """Response times of the alerts raised in a period: p50/p90 and the share within target, by source and kind."""

    permission_classes = [IsDispatchSupervisor]
    MAX_DAYS = 366

    class QuerySerializer(serializers.Serializer):
        # `from` is a Python keyword: the field is renamed below.
        from_ = serializers.CharField(required=False, help_text="A date (YYYY-MM-DD) or date-time; default today.")
        to = serializers.CharField(required=False, help_text="A date (inclusive) or date-time (exclusive).")
        alerts = serializers.BooleanField(required=False, default=False, help_text="Also list each alert's times.")

        def get_fields(self):
            fields = super().get_fields()
            fields["from"] = fields.pop("from_")
            return fields

        def validate(self, data):
            today = timezone.localdate().isoformat()
            try:
                start = _moment(data.get("from") or today, end=False)
                end = _moment(data.get("to") or data.get("from") or today, end=True)
            except ValueError:
                raise serializers.ValidationError({"from": ["Use YYYY-MM-DD or an ISO 8601 date-time."]}) from None
            if end <= start:
                raise serializers.ValidationError({"to": ["Must be after 'from'."]})
            if end - start > timedelta(days=ResponseTimesApi.MAX_DAYS):
                raise serializers.ValidationError({"to": [f"At most {ResponseTimesApi.MAX_DAYS} days at once."]})
            return {"start": start, "end": end, "alerts": data.get("alerts", False)}

    @extend_schema(parameters=[OpenApiParameter("from", str), OpenApiParameter("to", str),
                               OpenApiParameter("alerts", bool)],
                   responses={200: inline_serializer("ResponseTimes", {
                       "from": serializers.DateTimeField(), "to": serializers.DateTimeField(),
                       "targets": serializers.DictField(), "overall": serializers.DictField(),
                       "by_source": serializers.DictField(), "by_kind": serializers.DictField()})})
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        targets = {"acknowledge": settings.RESPONSE_TARGET_ACKNOWLEDGE_SECONDS,
                   "on_scene": settings.RESPONSE_TARGET_ON_SCENE_SECONDS}
        v = query.validated_data
        report = selectors.response_time_report(start=v["start"], end=v["end"], targets=targets,
                                                per_alert=v["alerts"])
        return Response(report)


# CAP and the responders' feed -------------------------------------------------------------------

CAP_CONTENT_TYPE = "application/cap+xml"


class XMLApiView(APIView):
    """Answers with its own XML; whatever the client accepts (application/cap+xml, Atom), an error is JSON."""

    permission_classes = [IsResponder]

    def perform_content_negotiation(self, request, force=False):
        return JSONRenderer(), JSONRenderer.media_type


def _sos_cap(sos: SOS, request) -> bytes:
    event = "sos_created" if sos.is_open else f"sos_{sos.status}"
    payload = {**sos.alert_payload(), "escalation_level": selectors.current_level(sos)}
    sent = sos.created_at if sos.is_open else (sos.closed_at or sos.updated_at)
    return cap.alert_xml("sos", payload, event=event, sent=sent,
                         web=request.build_absolute_uri(reverse("sos-detail", args=[sos.pk])))


def _incident_cap(incident: Incident, request) -> bytes:
    event = "incident_created" if incident.is_open else "incident_resolved"
    sent = incident.created_at if incident.is_open else (incident.resolved_at or incident.updated_at)
    return cap.alert_xml("incident", incident.event_payload(), event=event, sent=sent,
                         web=request.build_absolute_uri(reverse("incident-detail", args=[incident.pk])))


class SOSCapApi(XMLApiView):
    """One SOS as an OASIS CAP 1.2 alert (an Alert while open, a Cancel once closed); responders only."""

    permission_classes = [IsResponder]

    @extend_schema(responses={(200, CAP_CONTENT_TYPE): str})
    def get(self, request, sos_id):
        sos = SOS.objects.filter(pk=sos_id).first()
        if sos is None:
            raise NotFound("SOS not found")
        require_may_see(Actor.for_user(request.user), sos)
        return HttpResponse(_sos_cap(sos, request), content_type=CAP_CONTENT_TYPE)


class IncidentCapApi(XMLApiView):
    """One incident as an OASIS CAP 1.2 alert; responders only."""

    permission_classes = [IsResponder]

    @extend_schema(responses={(200, CAP_CONTENT_TYPE): str})
    def get(self, request, incident_id):
        incident = Incident.objects.select_related("beacon", "assigned_to").filter(pk=incident_id).first()
        if incident is None:
            raise NotFound("Incident not found.")
        require_may_see_incident(Actor.for_user(request.user), incident)
        return HttpResponse(_incident_cap(incident, request), content_type=CAP_CONTENT_TYPE)


class OpenAlertsFeedApi(XMLApiView):
    """An Atom feed of every open SOS and incident, newest first, each linking to its CAP alert; responders only."""

    permission_classes = [IsResponder]
    MAX_ENTRIES = 500

    @extend_schema(responses={(200, "application/atom+xml"): str})
    def get(self, request):
        feed = Atom1Feed(title="NaariKavach open alerts", link=request.build_absolute_uri("/dashboard/"),
                         description="Open citizen SOS alerts and camera incidents.", language="en",
                         feed_url=request.build_absolute_uri())
        entries = []
        for sos in SOS.objects.filter(status__in=SOS.OPEN_STATUSES).order_by("-created_at")[: self.MAX_ENTRIES]:
            kind = "emergency" if sos.sos_type == SOS.Type.EMERGENCY else "alert"
            entries.append((sos.created_at, {
                "title": f"SOS {kind} #{sos.pk} from {sos.name} ({sos.status})",
                "link": request.build_absolute_uri(reverse("sos-cap", args=[sos.pk])),
                "unique_id": f"urn:naarikavach:sos:{sos.pk}",
                "description": f"Status {sos.status}; at {sos.last_latitude:.5f}, {sos.last_longitude:.5f}."
                if sos.last_latitude is not None else f"Status {sos.status}; location pending.",
                "pubdate": sos.created_at, "updateddate": sos.updated_at,
            }))
        incidents = (Incident.objects.filter(status__in=Incident.OPEN_STATUSES).select_related("beacon")
                     .order_by("-created_at")[: self.MAX_ENTRIES])
        for incident in incidents:
            entries.append((incident.created_at, {
                "title": f"{incident.priority} {incident.kind} at {incident.beacon.name} ({incident.status})",
                "link": request.build_absolute_uri(reverse("incident-cap", args=[incident.pk])),
                "unique_id": f"urn:naarikavach:incident:{incident.pk}",
                "description": incident.description or f"{incident.kind} detected",
                "pubdate": incident.created_at, "updateddate": incident.updated_at,
            }))
        for _, item in sorted(entries, key=lambda pair: pair[0], reverse=True):
            feed.add_item(**{key: cap.xml_safe(value) for key, value in item.items()})
        return HttpResponse(feed.writeString("utf-8"), content_type="application/atom+xml; charset=utf-8")


class AlertDeliveriesReportApi(APIView):
    """The alert outbox in numbers: pending, delivered, dead (with the targets that have dead deliveries)."""

    permission_classes = [IsDispatchSupervisor]

    @extend_schema(responses={200: inline_serializer("AlertDeliveryCounts", {
        "pending": serializers.IntegerField(), "delivered": serializers.IntegerField(),
        "dead": serializers.IntegerField(), "oldest_pending_since": serializers.DateTimeField(allow_null=True),
        "dead_by_target": serializers.ListField(child=serializers.DictField())})})
    def get(self, request):
        return Response(selectors.alert_delivery_counts())
