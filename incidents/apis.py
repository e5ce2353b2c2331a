"""Thin DRF views for incidents: device reports, the responders' lists, detail and workflow, evidence downloads."""

import json

from django.conf import settings
from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import selectors, services
from incidents.authentication import DeviceAuthentication
from incidents.models import (
    AIEvent, Beacon, DetectionKind, Incident, IncidentAuditEntry, IncidentImage, IncidentKind, IncidentSignal,
)
from common.actors import Actor
from common.api.permissions import IsResponder
from incidents.permissions import IsActiveDevice
from incidents.storage import evidence_uses_signed_urls
from common.errors import InvalidInput, NotFound

# Responders sign in with a token or a session; devices are recognised too, so that they get 403, not 401.
RESPONDER_AUTHENTICATION = [TokenAuthentication, SessionAuthentication, DeviceAuthentication]
# Room for the largest allowed images plus the form fields, refused before anything is read or spooled.
REQUEST_OVERHEAD_BYTES = 1024 * 1024


def _number(value: float) -> str:
    """0.65 → '0.65', 0.8 → '0.80' (as the seed's messages), but 0.749 stays '0.749'."""
    text = f"{value:.2f}"
    return text if float(text) == value else f"{value:g}"


def evidence_url(image: IncidentImage, request) -> str:
    """A signed URL that expires (GCS), or the authenticated download view (local storage)."""
    if evidence_uses_signed_urls():
        return image.image.url
    return request.build_absolute_uri(reverse("incident-image-download", args=[image.pk]))


# Fields and output serializers ------------------------------------------------------------------


class ConfidenceField(serializers.FloatField):
    """A number in [0, 1]; true and false are not numbers here, though float(True) is 1.0."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.OBJECT)
class JSONObjectField(serializers.Field):
    """A JSON object, sent as one (JSON body) or as a string holding one (multipart form)."""

    default_error_messages = {"invalid": "Must be a JSON object, or a string holding one."}

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, dict):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class BeaconOutput(serializers.ModelSerializer):
    class Meta:
        model = Beacon
        fields = ("beacon_id", "name", "building", "floor", "latitude", "longitude")


class ImageOutput(serializers.ModelSerializer):
    image = serializers.SerializerMethodField()

    class Meta:
        model = IncidentImage
        fields = ("id", "image", "uploaded_at", "description", "sha256", "content_type", "size_bytes")

    def get_image(self, image) -> str:
        return evidence_url(image, self.context["request"])


class IncidentOutput(serializers.ModelSerializer):
    incident_id = serializers.UUIDField(source="id")
    beacon = BeaconOutput()
    assigned_to = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = (
            "id", "incident_id", "kind", "status", "priority", "description", "beacon", "first_signal_at",
            "last_signal_at", "signal_count", "assigned_to", "acknowledged_at", "assigned_at", "resolved_at",
            "resolution_note", "created_at", "updated_at",
        )

    def get_assigned_to(self, incident) -> str | None:
        return incident.assigned_to.username if incident.assigned_to_id else None


class SignalOutput(serializers.ModelSerializer):
    device_id = serializers.CharField(source="device.device_id", default=None)

    class Meta:
        model = IncidentSignal
        fields = ("id", "signal_type", "confidence_score", "description", "device_id", "ai_event_id", "sos_id",
                  "received_at")


class TimelineOutput(serializers.ModelSerializer):
    by = serializers.CharField(source="actor_label")

    class Meta:
        model = IncidentAuditEntry
        fields = ("action", "from_status", "to_status", "by", "details", "created_at")


class IncidentDetailOutput(IncidentOutput):
    signals = SignalOutput(many=True)
    images = ImageOutput(many=True)
    timeline = TimelineOutput(many=True, source="audit_trail")

    class Meta(IncidentOutput.Meta):
        fields = IncidentOutput.Meta.fields + ("signals", "images", "timeline")


class AIEventOutput(serializers.ModelSerializer):
    ai_event_id = serializers.IntegerField(source="id")
    beacon = BeaconOutput()
    device_id = serializers.CharField(source="device.device_id", default=None)
    images = ImageOutput(many=True)

    class Meta:
        model = AIEvent
        fields = ("id", "ai_event_id", "kind", "beacon", "device_id", "confidence_score", "threshold", "description",
                  "details", "outcome", "incident_id", "received_at", "images")


# Device reports ---------------------------------------------------------------------------------


def _refuse_oversized(request) -> None:
    limit = services.MAX_IMAGES_PER_REPORT * settings.EVIDENCE_MAX_BYTES + REQUEST_OVERHEAD_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise InvalidInput(f"Request too large: at most {limit} bytes.", code="too_large")


class _DetectionApi(APIView):
    """A detection device reports what it saw or heard; JSON, or multipart with up to 3 images."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsActiveDevice]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    kind = ""

    @extend_schema_serializer(component_name="DetectionReport")
    class InputSerializer(serializers.Serializer):
        beacon_id = serializers.CharField(max_length=128)
        confidence_score = ConfidenceField(min_value=0.0, max_value=1.0)
        description = serializers.CharField(max_length=services.MAX_DESCRIPTION_CHARS)
        device_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
        details = JSONObjectField(required=False)
        images = serializers.ListField(child=serializers.FileField(), required=False)

    @extend_schema(
        request={"multipart/form-data": InputSerializer, "application/json": InputSerializer},
        responses={200: inline_serializer("DetectionReported", {
            "status": serializers.CharField(), "ai_event_id": serializers.IntegerField(),
            "incident_id": serializers.UUIDField(required=False), "signal_id": serializers.IntegerField(required=False),
            "confidence_score": serializers.FloatField(required=False),
            "beacon_location": serializers.CharField(required=False),
            "incident_status": serializers.CharField(required=False),
            "incident_priority": serializers.CharField(required=False),
            "device_id": serializers.CharField(required=False), "images": ImageOutput(many=True, required=False),
            "message": serializers.CharField(required=False),
            "images_received": serializers.IntegerField(required=False),
        })},
    )
    def post(self, request):
        _refuse_oversized(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        device = request.auth
        result = services.ai_detection_report(
            kind=self.kind, device=device, beacon_id=v["beacon_id"], confidence_score=v["confidence_score"],
            description=v["description"], details=v.get("details"), images=v.get("images", []),
            device_id=v.get("device_id") or None,
        )
        if result.incident is None:
            return Response({
                "status": result.outcome,
                "ai_event_id": result.ai_event.pk,
                "message": f"Confidence {_number(result.ai_event.confidence_score)} below threshold "
                           f"{_number(result.threshold)}",
                "images_received": len(result.images),
            }, status=status.HTTP_200_OK)
        incident = result.incident
        return Response({
            "status": result.outcome,
            "ai_event_id": result.ai_event.pk,
            "incident_id": str(incident.pk),
            "signal_id": result.signal.pk,
            "confidence_score": result.ai_event.confidence_score,
            "beacon_location": incident.beacon.name,
            "incident_status": incident.status,
            "incident_priority": incident.priority,
            "device_id": device.device_id,
            "images": ImageOutput(result.images, many=True, context={"request": request}).data,
        }, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class ViolenceDetectedApi(_DetectionApi):
    kind = DetectionKind.VIOLENCE


class ScreamDetectedApi(_DetectionApi):
    kind = DetectionKind.SCREAM


class CameraTamperApi(_DetectionApi):
    """A camera's worker saw its feed frozen, its lens covered, or the camera moved (see docs/cameras.md)."""

    kind = DetectionKind.CAMERA_TAMPER


# Reads for responders ---------------------------------------------------------------------------


def _csv_choices(value: str, allowed: list[str]) -> list[str]:
    """'critical,HIGH' → ['Critical', 'High']: any case, each checked against the allowed values."""
    by_lower = {choice.lower(): choice for choice in allowed}
    items = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item for item in items if item.lower() not in by_lower]
    if unknown:
        raise serializers.ValidationError(f"Unknown value {', '.join(unknown)}; use {', '.join(allowed)}.")
    return [by_lower[item.lower()] for item in items]


class IncidentListFilter(serializers.Serializer):
    status = serializers.CharField(required=False)
    priority = serializers.CharField(required=False)
    kind = serializers.CharField(required=False)
    beacon = serializers.CharField(required=False, max_length=128)
    since = serializers.DateTimeField(required=False)

    def validate_status(self, value):
        return _csv_choices(value, Incident.Status.values)

    def validate_priority(self, value):
        return _csv_choices(value, Incident.Priority.values)

    def validate_kind(self, value):
        return _csv_choices(value, IncidentKind.values)


@extend_schema(parameters=[IncidentListFilter])
class IncidentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Incidents, newest activity first. Filters: status, priority, kind (comma lists), beacon, since."""

    serializer_class = IncidentOutput
    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]
    queryset = Incident.objects.none()

    def get_queryset(self):
        params = IncidentListFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        return selectors.incident_list(
            statuses=v.get("status"), priorities=v.get("priority"), kinds=v.get("kind"), beacon_id=v.get("beacon"),
            since=v.get("since"),
        )


class IncidentDetailApi(APIView):
    """One incident with its signals, evidence (as URLs) and timeline."""

    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]

    @extend_schema(responses=IncidentDetailOutput)
    def get(self, request, incident_id):
        incident = selectors.incident_detail(incident_id=incident_id)
        if incident is None:
            raise NotFound("Incident not found.")
        return Response(IncidentDetailOutput(incident, context={"request": request}).data)


class AIEventListFilter(serializers.Serializer):
    kind = serializers.CharField(required=False)
    outcome = serializers.CharField(required=False)
    beacon = serializers.CharField(required=False, max_length=128)
    since = serializers.DateTimeField(required=False)

    def validate_kind(self, value):
        return _csv_choices(value, DetectionKind.values)

    def validate_outcome(self, value):
        return _csv_choices(value, AIEvent.Outcome.values)


@extend_schema(parameters=[AIEventListFilter])
class AIEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every report, newest first, with its images: how below-threshold evidence gets its manual review."""

    serializer_class = AIEventOutput
    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]
    queryset = AIEvent.objects.none()

    def get_queryset(self):
        params = AIEventListFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        return selectors.ai_event_list(
            kinds=v.get("kind"), outcomes=v.get("outcome"), beacon_id=v.get("beacon"), since=v.get("since")
        )


class ImageDownloadApi(APIView):
    """The evidence file itself, for responders only: streamed from local storage, or a redirect to a signed URL."""

    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]

    @extend_schema(responses={(200, "image/*"): bytes, 302: None})
    def get(self, request, image_id: int):
        image = IncidentImage.objects.filter(pk=image_id).first()
        if image is None:
            raise NotFound("Image not found.")
        if evidence_uses_signed_urls():
            response = HttpResponseRedirect(image.image.url)
        else:
            try:
                handle = image.image.storage.open(image.image.name, "rb")
            except FileNotFoundError:
                raise NotFound("The evidence file is missing from storage.", code="evidence_missing") from None
            response = FileResponse(handle, content_type=image.content_type)
            response["Content-Disposition"] = f'inline; filename="evidence-{image.pk}.{image.extension}"'
            response["X-Content-Type-Options"] = "nosniff"
        # Evidence must not linger in shared caches, and a signed URL must not outlive its purpose in one.
        response["Cache-Control"] = "private, no-store"
        return response


# The response workflow --------------------------------------------------------------------------


class _IncidentChangeApi(APIView):
    """POST with an optional note; answers the incident after the change."""

    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]
    status_message = ""

    @extend_schema_serializer(component_name="IncidentNote")
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def get_serializer(self, *args, **kwargs):
        """Lets the schema generator find each subclass's InputSerializer."""
        return self.InputSerializer(*args, **kwargs)

    def change(self, request, incident_id, v: dict) -> Incident:  # pragma: no cover - abstract
        raise NotImplementedError

    @extend_schema(responses={200: inline_serializer("IncidentChanged", {
        "status": serializers.CharField(), "incident": IncidentOutput()})})
    def post(self, request, incident_id):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = self.change(request, incident_id, data.validated_data)
        return Response({"status": self.status_message, "incident": IncidentOutput(incident).data})


class AcknowledgeIncidentApi(_IncidentChangeApi):
    status_message = "Incident acknowledged"

    def change(self, request, incident_id, v):
        return services.incident_acknowledge(incident_id=incident_id, actor=Actor.for_user(request.user), note=v["note"])


class AssignIncidentApi(_IncidentChangeApi):
    status_message = "Incident assigned"

    @extend_schema_serializer(component_name="IncidentAssign")
    class InputSerializer(serializers.Serializer):
        officer = serializers.CharField(max_length=150, help_text="The username of an officer.")
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def change(self, request, incident_id, v):
        return services.incident_assign(
            incident_id=incident_id, officer_username=v["officer"], actor=Actor.for_user(request.user), note=v["note"]
        )


class StartIncidentApi(_IncidentChangeApi):
    status_message = "Incident in progress"

    def change(self, request, incident_id, v):
        return services.incident_start(incident_id=incident_id, actor=Actor.for_user(request.user), note=v["note"])


class ResolveIncidentApi(_IncidentChangeApi):
    status_message = "Incident resolved"

    @extend_schema_serializer(component_name="IncidentResolve")
    class InputSerializer(serializers.Serializer):
        resolution_note = serializers.CharField(max_length=5000)

    def change(self, request, incident_id, v):
        return services.incident_resolve(
            incident_id=incident_id, actor=Actor.for_user(request.user), resolution_note=v["resolution_note"]
        )
