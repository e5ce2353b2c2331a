"""Thin DRF views for incidents: device reports, the responders' lists, detail and workflow, evidence downloads."""


from django.conf import settings
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.actors import Actor
from common.api import parsers as safe_json
from common.api.permissions import IsResponder
from common.api.serializers import AuditEntryOutput
from common.errors import InvalidInput, NotFound
from incidents import hooks, selectors, services
from incidents.authentication import RESPONDER_AUTHENTICATION, DeviceAuthentication
from incidents.filters import AIEventFilter, IncidentFilter
from incidents.models import (
    AIEvent,
    Beacon,
    DetectionKind,
    Incident,
    IncidentAudio,
    IncidentImage,
    IncidentSignal,
)
from incidents.permissions import IsActiveDevice, incidents_visible_to, require_may_see_incident
from incidents.storage import evidence_uses_signed_urls

# Room for the largest allowed images plus the form fields, refused before anything is read or spooled.
REQUEST_OVERHEAD_BYTES = 1024 * 1024


def _number(value: float) -> str:
    """0.65 → '0.65', 0.8 → '0.80' (as the seed's messages), but 0.749 stays '0.749'."""
    text = f"{value:.2f}"
    return text if float(text) == value else f"{value:g}"


def evidence_url(image: IncidentImage, request) -> str:
    """The authenticated download view: faces blurred, each look audited (then a signed URL on GCS)."""
    return request.build_absolute_uri(reverse("incident-image-download", args=[image.pk]))


def audio_url(clip: IncidentAudio, request) -> str:
    if evidence_uses_signed_urls():
        return clip.audio.url
    return request.build_absolute_uri(reverse("incident-audio-download", args=[clip.pk]))


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
                data = safe_json.loads(data)
            except ValueError as error:
                raise serializers.ValidationError(f"Must be a JSON object, or a string holding one: {error}") from None
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


class AudioOutput(serializers.ModelSerializer):
    audio = serializers.SerializerMethodField()

    class Meta:
        model = IncidentAudio
        fields = ("id", "audio", "uploaded_at", "description", "sha256", "content_type", "size_bytes", "duration_s")

    def get_audio(self, clip) -> str:
        return audio_url(clip, self.context["request"])


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


class IncidentDetailOutput(IncidentOutput):
    signals = SignalOutput(many=True)
    images = ImageOutput(many=True)
    audio = AudioOutput(many=True, source="audio_clips")
    timeline = AuditEntryOutput(many=True, source="audit_trail")

    class Meta(IncidentOutput.Meta):
        fields = IncidentOutput.Meta.fields + ("signals", "images", "audio", "timeline")


class AIEventOutput(serializers.ModelSerializer):
    ai_event_id = serializers.IntegerField(source="id")
    beacon = BeaconOutput()
    device_id = serializers.CharField(source="device.device_id", default=None)
    images = ImageOutput(many=True)
    audio = AudioOutput(many=True, source="audio_clips")

    class Meta:
        model = AIEvent
        fields = ("id", "ai_event_id", "kind", "beacon", "device_id", "confidence_score", "threshold", "description",
                  "details", "outcome", "incident_id", "received_at", "images", "audio")


# Device reports ---------------------------------------------------------------------------------


def _refuse_oversized(request) -> None:
    # The images and one audio clip, each within the evidence limit.
    limit = (services.MAX_IMAGES_PER_REPORT + 1) * settings.EVIDENCE_MAX_BYTES + REQUEST_OVERHEAD_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise InvalidInput(f"Request too large: at most {limit} bytes.", code="too_large")


class _DetectionApi(APIView):
    """A detection device reports what it saw or heard; JSON, or multipart with up to 3 images and one audio clip."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsActiveDevice]
    parser_classes = [safe_json.SafeJSONParser, MultiPartParser, FormParser]
    kind = ""

    @extend_schema_serializer(component_name="DetectionReport")
    class InputSerializer(serializers.Serializer):
        beacon_id = serializers.CharField(max_length=128)
        confidence_score = ConfidenceField(min_value=0.0, max_value=1.0)
        description = serializers.CharField(max_length=services.MAX_DESCRIPTION_CHARS)
        device_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
        details = JSONObjectField(required=False)
        images = serializers.ListField(child=serializers.FileField(), required=False)
        audio = serializers.FileField(required=False, help_text="One Ogg (Opus, Vorbis), WAV or FLAC clip, at most 60 s.")

    @extend_schema(
        parameters=[OpenApiParameter(
            "Idempotency-Key", str, OpenApiParameter.HEADER, required=False, pattern=r"^[A-Za-z0-9._:-]{1,64}$",
            description="The device's own id for this report. A report re-sent with a key this device has used "
                        "is answered with the original result (header Idempotent-Replayed: true), not stored again.",
        )],
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
            "audio": AudioOutput(required=False),
            "images_not_stored": inline_serializer("EvidenceNotStored", {
                "number": serializers.IntegerField(help_text="1 for the report's first image"),
                "reason": serializers.CharField(help_text="e.g. 'disk full'"),
            }, many=True, required=False),
            "evidence_message": serializers.CharField(required=False),
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
            audio=v.get("audio"), device_id=v.get("device_id") or None,
            idempotency_key=request.headers.get("Idempotency-Key") or None,
        )
        # The seed's clients know no audio: the key appears only in answers to reports that sent a clip.
        audio = {} if result.audio is None else {"audio": AudioOutput(result.audio, context={"request": request}).data}
        evidence = {}
        if result.evidence_failures:
            evidence = {"images_not_stored": [failure.as_dict() for failure in result.evidence_failures],
                        "evidence_message": services.evidence_failure_message(result.evidence_failures)}
        headers = {"Idempotent-Replayed": "true"} if result.replayed else None
        if result.incident is None:
            return Response({**evidence,
                "status": result.outcome,
                "ai_event_id": result.ai_event.pk,
                "message": f"Confidence {_number(result.ai_event.confidence_score)} below threshold "
                           f"{_number(result.threshold)}",
                "images_received": len(result.images),
                **audio,
            }, status=status.HTTP_200_OK, headers=headers)
        incident = result.incident
        return Response({**evidence,
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
            **audio,
        }, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK, headers=headers)


class ViolenceDetectedApi(_DetectionApi):
    kind = DetectionKind.VIOLENCE


class ScreamDetectedApi(_DetectionApi):
    kind = DetectionKind.SCREAM


class CameraTamperApi(_DetectionApi):
    """A camera's worker saw its feed frozen, its lens covered, or the camera moved (see docs/cameras.md)."""

    kind = DetectionKind.CAMERA_TAMPER


# Reads for responders ---------------------------------------------------------------------------


class IncidentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Incidents, newest activity first. Filters: status, priority, kind (comma lists), beacon, since."""

    serializer_class = IncidentOutput
    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]
    queryset = Incident.objects.none()

    filter_backends = [DjangoFilterBackend]
    filterset_class = IncidentFilter

    def get_queryset(self):
        return incidents_visible_to(Actor.for_user(self.request.user), selectors.incident_list())


class IncidentDetailApi(APIView):
    """One incident with its signals, evidence (as URLs) and timeline."""

    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]

    @extend_schema(responses=IncidentDetailOutput)
    def get(self, request, incident_id):
        incident = selectors.incident_detail(incident_id=incident_id)
        if incident is None:
            raise NotFound("Incident not found.")
        require_may_see_incident(Actor.for_user(request.user), incident)
        data = IncidentDetailOutput(incident, context={"request": request}).data
        for extra in hooks.incident_detail_extras.fire(request=request, incident=incident):
            data.update(extra)
        return Response(data)


class AIEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every report, newest first, with its images: how below-threshold evidence gets its manual review."""

    serializer_class = AIEventOutput
    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]
    queryset = AIEvent.objects.none()

    filter_backends = [DjangoFilterBackend]
    filterset_class = AIEventFilter

    def get_queryset(self):
        return selectors.ai_event_list()


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
