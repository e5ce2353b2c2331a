"""Thin DRF views: a worker's heartbeat (device key), the camera registry for responders, manual SOS links,
pre-roll evidence and snapshots on request."""

import io

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cameras import selectors, services
from cameras.models import Camera, CameraSnapshot, SOSCameraClip, SOSCameraEvidence
from common.actors import Actor
from common.api.evidence import EvidenceDelivery, evidence_response
from common.api.permissions import IsResponder
from common.errors import InvalidInput, NotFound
from common.ratelimit import client_address
from incidents.apis import JSONObjectField
from incidents.authentication import RESPONDER_AUTHENTICATION, DeviceAuthentication
from incidents.permissions import IsActiveDevice
from privacy.apis import UnredactedEvidenceApi, view_audit_for_supervisor

MAX_CAMERAS_PER_HEARTBEAT = 256


class CameraOutput(serializers.ModelSerializer):
    device_id = serializers.CharField(source="device.device_id")
    beacon_id = serializers.CharField(source="beacon.beacon_id")
    health = serializers.CharField()
    coverage = serializers.SerializerMethodField()
    open_sos = serializers.SerializerMethodField()

    class Meta:
        model = Camera
        fields = ("camera_id", "name", "device_id", "beacon_id", "latitude", "longitude", "heading_deg", "fov_deg",
                  "range_m", "coverage", "enabled", "health", "reported_state", "last_heartbeat_at", "last_frame_at",
                  "stats", "offline_since", "open_sos")

    def get_coverage(self, camera) -> list[list[float]]:
        return camera.coverage_polygon()

    def get_open_sos(self, camera) -> list[int]:
        """The open SOS the camera is linked to now (a list view passes them for the whole page in `focus`)."""
        focus = self.context.get("focus")
        if focus is None:
            focus = selectors.focus_by_camera(camera_pks=[camera.pk])
        return focus.get(camera.pk, [])


def _flatten(errors, where: str) -> list[str]:
    if isinstance(errors, dict):
        items = errors.items()
    elif isinstance(errors, list) and errors and not isinstance(errors[0], str):
        items = enumerate(errors)
    else:
        return [f"{where}: {message}" for message in (errors if isinstance(errors, list) else [errors])]
    problems = []
    for key, nested in items:
        if isinstance(key, int):
            problems += _flatten(nested, f"{where}[{key}]")
        else:
            problems += _flatten(nested, where if key == "non_field_errors" else f"{where}.{key}")
    return problems


class CameraReport(serializers.Serializer):
    """One camera's health in a heartbeat."""

    camera_id = serializers.CharField(max_length=64)
    state = serializers.ChoiceField(choices=Camera.State.choices)
    fps = serializers.FloatField(min_value=0, required=False, allow_null=True)
    dropped_frames = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    last_frame_at = serializers.DateTimeField(required=False, allow_null=True)
    model_latency_ms = serializers.FloatField(min_value=0, required=False, allow_null=True)
    motion_share = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)


class HeartbeatApi(APIView):
    """A worker reports each of its cameras' health; the answer says which cameras to watch closely."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsActiveDevice]

    @extend_schema_serializer(component_name="Heartbeat")
    class InputSerializer(serializers.Serializer):
        cameras = serializers.ListField(min_length=1, max_length=MAX_CAMERAS_PER_HEARTBEAT)

        def validate_cameras(self, value):
            reports = CameraReport(data=value, many=True)
            if reports.is_valid():
                return reports.validated_data
            # "cameras[0].state: ..." rather than nested dictionaries: one readable line per problem.
            raise serializers.ValidationError(_flatten(reports.errors, "cameras"))

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("HeartbeatAnswer", {
            "received_at": serializers.DateTimeField(),
            "cameras": serializers.DictField(),
            "unknown_cameras": serializers.ListField(child=serializers.CharField()),
        })},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.camera_heartbeat(device=request.auth, reports=data.validated_data["cameras"])
        pks = [camera.pk for camera in result.cameras]
        focus = selectors.focus_by_camera(camera_pks=pks)
        snapshots = selectors.snapshots_wanted(camera_pks=pks, now=timezone.now())
        return Response({
            "received_at": result.cameras[0].last_heartbeat_at if result.cameras else timezone.now(),
            "cameras": {
                camera.camera_id: {"health": camera.health, "focus": bool(focus.get(camera.pk)),
                                   "focus_sos": focus.get(camera.pk, []),
                                   "snapshot_requests": snapshots.get(camera.pk, [])}
                for camera in result.cameras
            },
            "unknown_cameras": result.unknown,
        }, status=status.HTTP_200_OK)


class CameraListApi(generics.ListAPIView):
    """Every camera with its coverage and health, for the map (paginated). Filter: `health` (ok, reconnecting,
    offline, unknown)."""

    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]
    serializer_class = CameraOutput
    HEALTH = ("ok", "reconnecting", "offline", "unknown")

    def get_queryset(self):
        health = self.request.query_params.get("health") or None
        if health is not None and health not in self.HEALTH:
            raise InvalidInput("Unknown health.", fields={"health": [f"Use one of {', '.join(self.HEALTH)}."]})
        return selectors.camera_list(health=health)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        focus = selectors.focus_by_camera(camera_pks=[camera.pk for camera in page])
        data = CameraOutput(page, many=True, context={"request": request, "focus": focus}).data
        return self.get_paginated_response(data)


class CameraDetailApi(APIView):
    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]

    @extend_schema(responses=CameraOutput)
    def get(self, request, camera_id: str):
        camera = selectors.camera_detail(camera_id=camera_id)
        if camera is None:
            raise NotFound("Camera not found.")
        data = CameraOutput(camera).data
        # Who looked at this camera's pictures (snapshots): for dispatchers and admins only, as for an SOS.
        data |= view_audit_for_supervisor(request, subject_kind="camera", subject_id=camera.camera_id)
        return Response(data)


class _LinkApi(APIView):
    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]

    @extend_schema_serializer(component_name="CameraLinkInput")
    class InputSerializer(serializers.Serializer):
        camera_id = serializers.CharField(max_length=64)
        note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SOSCameraLinkApi(_LinkApi):
    """A dispatcher links a camera to an SOS by hand."""

    @extend_schema(request=_LinkApi.InputSerializer, responses={201: None})
    def post(self, request, sos_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        link = services.camera_sos_link(sos_id=sos_id, camera_id=v["camera_id"], note=v["note"],
                                        actor=Actor.for_user(request.user))
        return Response({"status": "Camera linked", "link": link.as_payload()}, status=status.HTTP_201_CREATED)


class SOSCameraUnlinkApi(_LinkApi):
    """A dispatcher ends a camera's link to an SOS."""

    @extend_schema(request=_LinkApi.InputSerializer, responses={200: None})
    def post(self, request, sos_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        link = services.camera_sos_unlink(sos_id=sos_id, camera_id=v["camera_id"], note=v["note"],
                                          actor=Actor.for_user(request.user))
        return Response({"status": "Camera unlinked", "link": link.as_payload()})


# Pre-roll evidence --------------------------------------------------------------------------------


class SOSEvidenceUploadApi(APIView):
    """A linked camera's worker sends key frames of its last seconds for an SOS (multipart, up to 6 images, and
    optionally `clip`, the same frames as a short video).

    The fields are those of a detection report, so the worker's spool carries it: `details` holds `sos_id`,
    `camera` and optionally `captured_at` (a list of ISO times, one per image)."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsActiveDevice]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema_serializer(component_name="SOSCameraEvidenceUpload")
    class InputSerializer(serializers.Serializer):
        details = JSONObjectField()
        images = serializers.ListField(child=serializers.FileField(), max_length=services.MAX_PREROLL_IMAGES)
        clip = serializers.FileField(required=False, help_text="The same frames as a short WebM or MP4 (optional).")
        beacon_id = serializers.CharField(required=False, max_length=128)
        confidence_score = serializers.CharField(required=False, max_length=16)
        description = serializers.CharField(required=False, max_length=5000)
        device_id = serializers.CharField(required=False, max_length=64, allow_blank=True)

    class Details(serializers.Serializer):
        sos_id = serializers.IntegerField(min_value=1)
        camera = serializers.CharField(max_length=64)
        captured_at = serializers.ListField(child=serializers.DateTimeField(), required=False, max_length=6)

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={201: None})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        details = self.Details(data=data.validated_data["details"])
        if not details.is_valid():
            raise InvalidInput("Invalid details.", fields={"details": [str(details.errors)]})
        d = details.validated_data
        rows = services.camera_sos_evidence_add(
            device=request.auth, camera_id=d["camera"], sos_id=d["sos_id"], images=data.validated_data["images"],
            captured_at=d.get("captured_at"), clip=data.validated_data.get("clip"),
        )
        return Response({"status": "evidence_added", "sos_id": d["sos_id"], "images": len(rows),
                         "clip": "clip" in data.validated_data},
                        status=status.HTTP_201_CREATED)


class _PrerollOutput(serializers.ModelSerializer):
    """A pre-roll row: its camera, and where responders fetch the file (with faces blurred, each look audited)."""

    camera_id = serializers.CharField(source="camera.camera_id")
    download_route = ""

    def _download_url(self, row) -> str:
        return self.context["request"].build_absolute_uri(reverse(self.download_route, args=[row.pk]))


class EvidenceOutput(_PrerollOutput):
    image = serializers.SerializerMethodField()
    download_route = "sos-camera-evidence-download"

    class Meta:
        model = SOSCameraEvidence
        fields = ("id", "camera_id", "image", "captured_at", "received_at", "sha256", "content_type", "size_bytes",
                  "width", "height")

    def get_image(self, row) -> str:
        """The key frame with faces blurred (PNG)."""
        return self._download_url(row)


class ClipOutput(_PrerollOutput):
    video = serializers.SerializerMethodField()
    download_route = "sos-camera-clip-download"

    class Meta:
        model = SOSCameraClip
        fields = ("id", "camera_id", "video", "received_at", "sha256", "content_type", "size_bytes", "width",
                  "height", "frames", "fps", "faces_found")

    def get_video(self, row) -> str:
        """The clip with faces blurred (WebM)."""
        return self._download_url(row)


class _SOSPrerollApi(APIView):
    """Responders only, never the citizen: pre-roll comes from cameras near her, not from her."""

    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]


class _SOSPrerollListApi(_SOSPrerollApi):
    output_class: type[_PrerollOutput]

    def rows(self, sos_id: int):
        raise NotImplementedError

    def get(self, request, sos_id: int):
        rows = self.rows(sos_id)
        if rows is None:
            raise NotFound("SOS not found")
        return Response(self.output_class(rows, many=True, context={"request": request}).data)


class _SOSPrerollDownloadApi(_SOSPrerollApi):
    lookup_url_kwarg = ""

    def deliver(self, pk: int, *, actor: Actor, ip_address: str | None) -> EvidenceDelivery:
        raise NotImplementedError

    def get(self, request, **kwargs):
        return evidence_response(self.deliver(kwargs[self.lookup_url_kwarg], actor=Actor.for_user(request.user),
                                              ip_address=client_address(request)))


@extend_schema_view(get=extend_schema(responses=EvidenceOutput(many=True)))
class SOSEvidenceListApi(_SOSPrerollListApi):
    """An SOS's pre-roll frames from linked cameras, oldest first."""

    output_class = EvidenceOutput

    def rows(self, sos_id: int):
        return selectors.sos_camera_evidence(sos_id=sos_id)


@extend_schema_view(get=extend_schema(responses={(200, "image/png"): bytes}))
class SOSEvidenceDownloadApi(_SOSPrerollDownloadApi):
    """A pre-roll key frame as responders see it: faces blurred (PNG), each look audited."""

    lookup_url_kwarg = "evidence_id"

    def deliver(self, pk, *, actor, ip_address):
        row, data = services.sos_camera_evidence_view(evidence_id=pk, actor=actor, ip_address=ip_address)
        return EvidenceDelivery(handle=io.BytesIO(data), content_type="image/png",
                                filename=f"sos-{row.sos_id}-camera-{row.pk}.png")


@extend_schema_view(get=extend_schema(responses=ClipOutput(many=True)))
class SOSClipListApi(_SOSPrerollListApi):
    """An SOS's pre-roll clips from linked cameras (when their workers send them), oldest first."""

    output_class = ClipOutput

    def rows(self, sos_id: int):
        return selectors.sos_camera_clips(sos_id=sos_id)


@extend_schema_view(get=extend_schema(responses={(200, "video/webm"): bytes}))
class SOSClipDownloadApi(_SOSPrerollDownloadApi):
    """A pre-roll clip as responders see it: faces blurred (WebM), each look audited."""

    lookup_url_kwarg = "clip_id"

    def deliver(self, pk, *, actor, ip_address):
        clip, handle = services.sos_camera_clip_view(clip_id=pk, actor=actor, ip_address=ip_address)
        return EvidenceDelivery(handle=handle, content_type="video/webm",
                                filename=f"sos-{clip.sos_id}-camera-clip-{clip.pk}.webm")


# Snapshots on request -------------------------------------------------------------------------------


class SnapshotOutput(serializers.ModelSerializer):
    snapshot_id = serializers.IntegerField(source="pk")
    camera_id = serializers.CharField(source="camera.camera_id")
    status = serializers.SerializerMethodField()
    image = serializers.SerializerMethodField()

    class Meta:
        model = CameraSnapshot
        fields = ("snapshot_id", "camera_id", "status", "requested_at", "requested_by_label", "expires_at",
                  "delivered_at", "captured_at", "sha256", "content_type", "size_bytes", "width", "height",
                  "faces_found", "image")

    def get_status(self, row) -> str:
        return row.status(timezone.now())

    def get_image(self, row) -> str | None:
        """The face-blurred picture (each look audited), once the worker has sent it."""
        if row.delivered_at is None:
            return None
        return self.context["request"].build_absolute_uri(reverse("camera-snapshot-image", args=[row.pk]))


class CameraSnapshotRequestApi(APIView):
    """A responder asks for a camera's latest frame; its worker is told in its next heartbeat answer and sends
    it back. Answers 202 with the request to poll (`GET /api/cameras/snapshots/<snapshot_id>/`)."""

    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]

    @extend_schema(request=None, responses={202: SnapshotOutput})
    def post(self, request, camera_id: str):
        snapshot = services.camera_snapshot_request(camera_id=camera_id, actor=Actor.for_user(request.user))
        return Response(SnapshotOutput(snapshot, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class CameraSnapshotDetailApi(APIView):
    """Where a snapshot request stands: pending, ready (with its image link) or expired."""

    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]

    @extend_schema(responses=SnapshotOutput)
    def get(self, request, snapshot_id: int):
        snapshot = selectors.camera_snapshot(snapshot_id=snapshot_id)
        if snapshot is None:
            raise NotFound("Snapshot not found.")
        return Response(SnapshotOutput(snapshot, context={"request": request}).data)


class CameraSnapshotImageApi(APIView):
    """The snapshot with faces blurred (PNG); each look is recorded in the view audit."""

    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]

    @extend_schema(responses={(200, "image/png"): bytes})
    def get(self, request, snapshot_id: int):
        snapshot, handle = services.camera_snapshot_view(snapshot_id=snapshot_id, actor=Actor.for_user(request.user),
                                                         ip_address=client_address(request))
        return evidence_response(EvidenceDelivery(
            handle=handle, content_type="image/png", filename=f"camera-{snapshot.camera.camera_id}-{snapshot.pk}.png"))


class CameraSnapshotUploadApi(APIView):
    """A camera's worker sends the frame a responder asked for (multipart, one image). The fields are those of a
    detection report, so the worker's spool carries it: `details` holds `camera`, `snapshot_id` and optionally
    `captured_at`."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsActiveDevice]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema_serializer(component_name="CameraSnapshotUpload")
    class InputSerializer(serializers.Serializer):
        details = JSONObjectField()
        images = serializers.ListField(child=serializers.FileField(), min_length=1, max_length=1)
        beacon_id = serializers.CharField(required=False, max_length=128)
        confidence_score = serializers.CharField(required=False, max_length=16)
        description = serializers.CharField(required=False, max_length=5000)
        device_id = serializers.CharField(required=False, max_length=64, allow_blank=True)

    class Details(serializers.Serializer):
        camera = serializers.CharField(max_length=64)
        snapshot_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
        captured_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={201: None})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        details = self.Details(data=data.validated_data["details"])
        if not details.is_valid():
            raise InvalidInput("Invalid details.", fields={"details": _flatten(details.errors, "details")})
        d = details.validated_data
        snapshot = services.camera_snapshot_deliver(
            device=request.auth, camera_id=d["camera"], snapshot_id=d["snapshot_id"],
            image=data.validated_data["images"][0], captured_at=d.get("captured_at"),
        )
        return Response({"status": "snapshot_delivered", "snapshot_id": snapshot.pk, "sha256": snapshot.sha256},
                        status=status.HTTP_201_CREATED)


# Originals, for holders of the unredacted-evidence permission (privacy.apis.UnredactedEvidenceApi) ---------


class CameraSnapshotUnredactedApi(UnredactedEvidenceApi):
    """A snapshot as the camera sent it, faces unblurred: `POST {"reason": ...}`, permission needed, audited."""

    lookup_url_kwarg = "snapshot_id"
    request_component = "CameraSnapshotUnredactedRequest"

    def deliver(self, *, pk, actor, ip_address, reason):
        return services.camera_snapshot_view_unredacted(snapshot_id=pk, actor=actor, ip_address=ip_address,
                                                        reason=reason)


class SOSEvidenceUnredactedApi(UnredactedEvidenceApi):
    """A pre-roll key frame as the camera sent it: `POST {"reason": ...}`, permission needed, audited."""

    lookup_url_kwarg = "evidence_id"
    request_component = "SOSCameraEvidenceUnredactedRequest"

    def deliver(self, *, pk, actor, ip_address, reason):
        return services.sos_camera_evidence_view_unredacted(evidence_id=pk, actor=actor, ip_address=ip_address,
                                                            reason=reason)


class SOSClipUnredactedApi(UnredactedEvidenceApi):
    """A pre-roll clip as the worker sent it: `POST {"reason": ...}`, permission needed, audited."""

    lookup_url_kwarg = "clip_id"
    request_component = "SOSCameraClipUnredactedRequest"

    def deliver(self, *, pk, actor, ip_address, reason):
        return services.sos_camera_clip_view_unredacted(clip_id=pk, actor=actor, ip_address=ip_address, reason=reason)
