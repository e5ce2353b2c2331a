"""Thin DRF views for the SOS API: parse input, check who is asking, call one service, shape output."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Unit
from common.actors import public_label
from common.api.permissions import IsResponder
from common.api.throttling import SettingsScopedThrottle
from common.errors import NotFound
from common.geo import LATITUDE_FIELD, LONGITUDE_FIELD, position_errors
from sos import selectors, services
from sos.models import SOS, OfficerAssignment, SOSAuditEntry
from sos.permissions import HasUserOrSOSToken, actor_from_request, may_see_phone, require_may_see


# Output serializers -----------------------------------------------------------------------------


class LocationOutput(serializers.Serializer):
    # A plain Serializer: a ModelSerializer builds its fields from the model on every instance,
    # and this one is built for every point posted.
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    accuracy_m = serializers.FloatField(allow_null=True, required=False)
    recorded_at = serializers.DateTimeField(required=False)


class AssignmentOutput(serializers.ModelSerializer):
    unit_number = serializers.CharField(source="unit.unit_number")

    class Meta:
        model = OfficerAssignment
        fields = ("id", "officer_name", "unit_number", "assigned_at")


class AuditOutput(serializers.ModelSerializer):
    by = serializers.SerializerMethodField(help_text="Who acted: 'role:username' for responders; only the role "
                                                     "for the SOS's owner.")

    def get_by(self, entry) -> str:
        return entry.actor_label if self.context.get("responder") else public_label(entry.actor_label)

    class Meta:
        model = SOSAuditEntry
        fields = ("action", "from_status", "to_status", "by", "details", "created_at")


class SOSOutput(serializers.ModelSerializer):
    sos_id = serializers.IntegerField(source="id")
    latitude = serializers.FloatField(source="last_latitude")
    longitude = serializers.FloatField(source="last_longitude")
    distance_km = serializers.SerializerMethodField()

    class Meta:
        model = SOS
        fields = (
            "id", "sos_id", "room_id", "name", "sos_type", "status", "phone", "latitude", "longitude",
            "last_located_at", "initial_latitude", "initial_longitude", "accuracy_m",
            "created_at", "updated_at", "closed_at", "distance_km",
        )

    def to_representation(self, sos):
        data = super().to_representation(sos)
        actor = self.context.get("actor")
        # Officers see a victim's number once the alert is their unit's (sos.permissions).
        if actor is not None and data.get("phone") and not may_see_phone(actor, sos):
            data["phone"] = ""
        return data

    def get_distance_km(self, sos) -> float | None:
        distance = getattr(sos, "distance_km", None)
        return round(distance, 3) if distance is not None else None


class SOSDetailOutput(SOSOutput):
    locations = LocationOutput(many=True, source="recent_points",
                               help_text="The newest SOS_DETAIL_MAX_POINTS points, oldest first.")
    assignments = AssignmentOutput(many=True)
    audit_trail = AuditOutput(many=True)

    class Meta(SOSOutput.Meta):
        fields = SOSOutput.Meta.fields + ("locations", "assignments", "audit_trail")


# Writes -----------------------------------------------------------------------------------------


class SOSCreateApi(APIView):
    """Raise an SOS. Anyone may, signed in or not; the response holds the one copy of its access token."""

    permission_classes = [AllowAny]
    throttle_classes = [SettingsScopedThrottle]
    throttle_scope = "sos_create"

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=120, allow_blank=True, required=False, default="Anonymous")
        sos_type = serializers.ChoiceField(choices=SOS.Type.choices)
        initial_latitude = serializers.FloatField(**LATITUDE_FIELD)
        initial_longitude = serializers.FloatField(**LONGITUDE_FIELD)
        accuracy_m = serializers.FloatField(min_value=0, required=False, allow_null=True)
        phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={201: inline_serializer("SOSCreated", {
        "status": serializers.CharField(), "message": serializers.CharField(), "sos_id": serializers.IntegerField(),
        "room_id": serializers.UUIDField(), "access_token": serializers.CharField()})})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        sos, token = services.sos_create(
            name=v["name"], sos_type=v["sos_type"], latitude=v["initial_latitude"],
            longitude=v["initial_longitude"], accuracy_m=v.get("accuracy_m"), phone=v["phone"], owner=request.user,
        )
        return Response(
            {"status": "success", "message": "SOS created successfully", "sos_id": sos.pk,
             "room_id": str(sos.room_id), "access_token": token},
            status=status.HTTP_201_CREATED,
        )


class LocationUpdateApi(APIView):
    """Add a point to an SOS's trail: its owner (account or access token) or a responder."""

    permission_classes = [HasUserOrSOSToken]
    throttle_classes = [SettingsScopedThrottle]
    throttle_scope = "sos_location"

    class InputSerializer(serializers.Serializer):
        sos_request = serializers.IntegerField(min_value=1)
        latitude = serializers.FloatField(**LATITUDE_FIELD)
        longitude = serializers.FloatField(**LONGITUDE_FIELD)
        accuracy_m = serializers.FloatField(min_value=0, required=False, allow_null=True)
        recorded_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: inline_serializer("LocationUpdated", {
        "status": serializers.CharField(), "location": LocationOutput()})})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        point = services.sos_location_add(
            sos_id=v["sos_request"], latitude=v["latitude"], longitude=v["longitude"],
            actor=actor_from_request(request), accuracy_m=v.get("accuracy_m"), recorded_at=v.get("recorded_at"),
        )
        return Response(
            {"status": "Location updated successfully", "location": LocationOutput(point).data},
            status=status.HTTP_201_CREATED,
        )


class AssignOfficerApi(APIView):
    permission_classes = [IsResponder]

    class InputSerializer(serializers.Serializer):
        sos_request = serializers.IntegerField(min_value=1)
        officer_name = serializers.CharField(max_length=120)
        unit_number = serializers.CharField(max_length=32)

    @extend_schema(request=InputSerializer, responses={201: inline_serializer("OfficerAssigned", {
        "status": serializers.CharField(), "officer": AssignmentOutput()})})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        assignment = services.sos_assign(
            sos_id=v["sos_request"], officer_name=v["officer_name"], unit_number=v["unit_number"],
            actor=actor_from_request(request),
        )
        return Response(
            {"status": "Officer assigned successfully", "officer": AssignmentOutput(assignment).data},
            status=status.HTTP_201_CREATED,
        )


class _SOSStateChangeApi(APIView):
    """POST with an optional note; answers the SOS after the change."""

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    status_message = ""

    def change(self, *, sos_id: int, actor, note: str) -> SOS:  # pragma: no cover - abstract
        raise NotImplementedError

    @extend_schema(request=InputSerializer, responses={200: inline_serializer("SOSChanged", {
        "status": serializers.CharField(), "sos": SOSOutput()})})
    def post(self, request, sos_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sos = self.change(sos_id=sos_id, actor=actor_from_request(request), note=data.validated_data["note"])
        return Response({"status": self.status_message, "sos": SOSOutput(sos).data})


class AcknowledgeSOSApi(_SOSStateChangeApi):
    permission_classes = [IsResponder]
    status_message = "SOS acknowledged"

    def change(self, *, sos_id, actor, note):
        return services.sos_acknowledge(sos_id=sos_id, actor=actor)


class ResolveSOSApi(_SOSStateChangeApi):
    permission_classes = [IsResponder]
    status_message = "SOS resolved"

    def change(self, *, sos_id, actor, note):
        return services.sos_resolve(sos_id=sos_id, actor=actor, note=note)


class CancelSOSApi(_SOSStateChangeApi):
    """The owner withdraws a false alarm (with their account or the access token)."""

    permission_classes = [HasUserOrSOSToken]
    status_message = "SOS cancelled"

    def change(self, *, sos_id, actor, note):
        return services.sos_cancel(sos_id=sos_id, actor=actor, reason=note)


class UnitLocationApi(APIView):
    """An officer reports their unit's position."""

    class InputSerializer(serializers.Serializer):
        latitude = serializers.FloatField(**LATITUDE_FIELD)
        longitude = serializers.FloatField(**LONGITUDE_FIELD)
        accuracy_m = serializers.FloatField(min_value=0, required=False, allow_null=True)
        recorded_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: inline_serializer("UnitLocated", {
        "status": serializers.CharField(), "unit_number": serializers.CharField()})})
    def post(self, request, unit_number: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        location = services.unit_location_update(
            unit_number=unit_number, latitude=v["latitude"], longitude=v["longitude"],
            actor=actor_from_request(request), accuracy_m=v.get("accuracy_m"), recorded_at=v.get("recorded_at"),
        )
        return Response({"status": "Unit location updated", "unit_number": location.unit.unit_number},
                        status=status.HTTP_201_CREATED)


# Reads ------------------------------------------------------------------------------------------


class SOSListFilter(serializers.Serializer):
    status = serializers.CharField(required=False)
    near = serializers.CharField(required=False)
    radius_km = serializers.FloatField(required=False, min_value=0, max_value=20000)

    def validate_status(self, value):
        statuses = [s.strip() for s in value.split(",") if s.strip()]
        unknown = sorted(set(statuses) - set(SOS.Status.values))
        if unknown:
            raise serializers.ValidationError(f"Unknown status {', '.join(unknown)}; use {', '.join(SOS.Status.values)}.")
        return statuses

    def validate_near(self, value):
        try:
            lat, lng = (float(part) for part in value.split(","))
        except ValueError:
            raise serializers.ValidationError("Use near=<latitude>,<longitude>.") from None
        errors = position_errors(lat, lng)
        if errors:
            raise serializers.ValidationError(" ".join(message for messages in errors.values() for message in messages))
        return lat, lng

    def validate(self, attrs):
        if "radius_km" in attrs and "near" not in attrs:
            raise serializers.ValidationError({"near": ["radius_km needs near=<latitude>,<longitude>."]})
        return attrs


@extend_schema(parameters=[SOSListFilter])
class SOSViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Responders list every SOS; citizens their own. Filters: status, near=lat,lng with radius_km."""

    serializer_class = SOSOutput
    permission_classes = [IsAuthenticated]
    queryset = SOS.objects.none()

    def get_queryset(self):
        params = SOSListFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        return selectors.sos_list(
            user=self.request.user, statuses=v.get("status"), near=v.get("near"), radius_km=v.get("radius_km")
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "actor": actor_from_request(self.request)}


class SOSDetailApi(APIView):
    """One SOS with its trail, assignments and audit trail: for responders and its owner."""

    permission_classes = [HasUserOrSOSToken]

    @extend_schema(responses=SOSDetailOutput)
    def get(self, request, sos_id: int):
        sos = selectors.sos_detail(sos_id=sos_id, max_points=settings.SOS_DETAIL_MAX_POINTS)
        if sos is None:
            raise NotFound("SOS not found")
        actor = actor_from_request(request)
        require_may_see(actor, sos)
        return Response(SOSDetailOutput(sos, context={"responder": actor.is_responder, "actor": actor}).data)


class UnitOutput(serializers.ModelSerializer):
    officers = serializers.SerializerMethodField()

    class Meta:
        model = Unit
        fields = ("unit_number", "name", "status", "last_latitude", "last_longitude", "last_accuracy_m",
                  "last_seen_at", "officers")

    def get_officers(self, unit) -> list[str]:
        return [officer.username for officer in unit.officers.all()]


class UnitViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Units with their last known positions and status (filter: status)."""

    serializer_class = UnitOutput
    permission_classes = [IsResponder]
    queryset = Unit.objects.none()

    def get_queryset(self):
        status_filter = self.request.query_params.get("status")
        if status_filter and status_filter not in Unit.Status.values:
            raise serializers.ValidationError({"status": [f"Use one of {', '.join(Unit.Status.values)}."]})
        return selectors.unit_list(status=status_filter)
