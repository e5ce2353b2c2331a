"""Thin DRF views of the privacy app: evidence as responders see it (mounted under /api/incidents/ too, see
urls.py), bundles, legal holds, a citizen's own data; and the view audit it adds to SOS and incident details."""

import uuid

from django.http import FileResponse
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import HashedTokenAuthentication
from common.actors import Actor
from common.api.evidence import evidence_response
from common.api.permissions import IsResponder
from common.errors import InvalidInput
from common.ratelimit import client_address
from incidents import authentication as incidents_authentication
from privacy import selectors, services
from privacy.models import LegalHold, ViewAuditEntry
from privacy.permissions import IsSupervisor, is_supervisor

RESPONDER_AUTHENTICATION = [HashedTokenAuthentication, SessionAuthentication]


class ViewAuditOutput(serializers.ModelSerializer):
    by = serializers.CharField(source="actor_label")

    class Meta:
        model = ViewAuditEntry
        fields = ("action", "by", "created_at", "subject_kind", "subject_id", "image_id", "delivery", "ip_address",
                  "reason")


def view_audit_for_supervisor(request, *, subject_kind: str, subject_id) -> dict:
    """{"view_audit": [...]} for a supervisor's detail page of a subject; nothing for anyone else."""
    if not is_supervisor(request.user):
        return {}
    entries = selectors.view_audit_for(subject_kind=subject_kind, subject_id=subject_id)
    return {"view_audit": ViewAuditOutput(entries, many=True).data}


def sos_detail_view_audit(*, request, sos) -> dict:
    """Receiver of sos.hooks.sos_detail_extras (registered in apps.py)."""
    return view_audit_for_supervisor(request, subject_kind="sos", subject_id=sos.pk)


def incident_detail_view_audit(*, request, incident) -> dict:
    """Receiver of incidents.hooks.incident_detail_extras (registered in apps.py)."""
    return view_audit_for_supervisor(request, subject_kind="incident", subject_id=incident.pk)


class ImageDownloadApi(APIView):
    """The evidence image as responders see it, streamed or as a redirect to a signed URL; each look audited."""

    authentication_classes = incidents_authentication.RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]

    @extend_schema(responses={(200, "image/*"): bytes, 302: None})
    def get(self, request, image_id: int):
        delivery = services.evidence_view(
            image_id=image_id, actor=Actor.for_user(request.user), ip_address=client_address(request)
        )
        return evidence_response(delivery)


class AudioDownloadApi(APIView):
    """An evidence sound clip, for responders only, served like images (the dashboard plays it)."""

    authentication_classes = incidents_authentication.RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]

    @extend_schema(responses={(200, "audio/*"): bytes, 302: None})
    def get(self, request, audio_id: int):
        delivery = services.evidence_audio_view(
            audio_id=audio_id, actor=Actor.for_user(request.user), ip_address=client_address(request)
        )
        return evidence_response(delivery)


def _reason_input(component_name: str) -> type[serializers.Serializer]:
    """The body of an unredacted view, a reason: one schema component per operation."""

    @extend_schema_serializer(component_name=component_name)
    class ReasonInput(serializers.Serializer):
        reason = serializers.CharField(max_length=services.MAX_REASON_CHARS)

    return ReasonInput


class UnredactedEvidenceApi(APIView):
    """The original of an evidence file, faces unblurred: for holders of the permission, who must say why
    (audited). Subclasses name the URL's id (`lookup_url_kwarg`), their request's schema component, and the
    service that finds and hands out the file; every one ends in privacy.services.evidence_original_view."""

    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]
    lookup_url_kwarg = ""
    request_component = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.InputSerializer = _reason_input(cls.request_component)

        def post(self, request, **url_kwargs):
            return UnredactedEvidenceApi._post(self, request, **url_kwargs)

        cls.post = extend_schema(request=cls.InputSerializer, responses={(200, "*/*"): bytes, 302: None})(post)

    def deliver(self, *, pk: int, actor: Actor, ip_address: str | None, reason: str) -> services.EvidenceDelivery:
        raise NotImplementedError

    def _post(self, request, **url_kwargs):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        delivery = self.deliver(pk=url_kwargs[self.lookup_url_kwarg], actor=Actor.for_user(request.user),
                                ip_address=client_address(request), reason=data.validated_data["reason"])
        return evidence_response(delivery)


class UnredactedImageApi(UnredactedEvidenceApi):
    """The original evidence image of an incident (or a report)."""

    lookup_url_kwarg = "image_id"
    request_component = "UnredactedEvidenceRequest"

    def deliver(self, *, pk, actor, ip_address, reason):
        return services.evidence_view_unredacted(image_id=pk, actor=actor, ip_address=ip_address, reason=reason)


class _BundleApi(APIView):
    """The signed evidence bundle (zip) of one subject, for supervisors who say why; the export is audited."""

    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsResponder]
    subject_kind = ""

    @extend_schema_serializer(component_name="EvidenceBundleRequest")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=services.MAX_REASON_CHARS)

    @extend_schema(request=InputSerializer, responses={(200, "application/zip"): bytes})
    def post(self, request, subject_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bundle = services.evidence_bundle_export(
            subject_kind=self.subject_kind, subject_id=subject_id, actor=Actor.for_user(request.user),
            ip_address=client_address(request), reason=data.validated_data["reason"],
        )
        response = FileResponse(bundle, content_type="application/zip", as_attachment=True,
                                filename=f"evidence-{self.subject_kind}-{subject_id}.zip")
        response["Cache-Control"] = "private, no-store"
        return response


class IncidentBundleApi(_BundleApi):
    subject_kind = "incident"


class SOSBundleApi(_BundleApi):
    subject_kind = "sos"


class LegalHoldOutput(serializers.ModelSerializer):
    class Meta:
        model = LegalHold
        fields = ("id", "subject_kind", "subject_id", "reason", "placed_by_label", "placed_at", "released_at",
                  "released_by_label", "release_reason")


class LegalHoldViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Legal holds, newest first (supervisors); POST places one on an SOS or incident, with a reason."""

    serializer_class = LegalHoldOutput
    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsSupervisor]
    queryset = LegalHold.objects.all()

    @extend_schema_serializer(component_name="LegalHoldRequest")
    class InputSerializer(serializers.Serializer):
        subject_kind = serializers.ChoiceField(choices=LegalHold.Subject.choices)
        subject_id = serializers.CharField(max_length=64)
        reason = serializers.CharField(max_length=services.MAX_REASON_CHARS)

    @extend_schema(request=InputSerializer, responses={201: LegalHoldOutput})
    def create(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        hold = services.legal_hold_place(subject_kind=v["subject_kind"], subject_id=_subject_id(v),
                                         actor=Actor.for_user(request.user), reason=v["reason"])
        return Response(LegalHoldOutput(hold).data, status=status.HTTP_201_CREATED)


def _subject_id(v: dict):
    """An SOS id is a number, an incident id a UUID: anything else is a 400, never a 500."""
    try:
        return int(v["subject_id"]) if v["subject_kind"] == "sos" else uuid.UUID(v["subject_id"])
    except ValueError:
        raise InvalidInput("Invalid subject id.", fields={"subject_id": ["Not an id of that kind."]}) from None


class LegalHoldReleaseApi(APIView):
    authentication_classes = RESPONDER_AUTHENTICATION
    permission_classes = [IsSupervisor]

    @extend_schema_serializer(component_name="LegalHoldRelease")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=services.MAX_REASON_CHARS)

    @extend_schema(request=InputSerializer, responses={200: LegalHoldOutput})
    def post(self, request, hold_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = services.legal_hold_release(hold_id=hold_id, actor=Actor.for_user(request.user),
                                           reason=data.validated_data["reason"])
        return Response(LegalHoldOutput(hold).data)


class CitizenExportApi(APIView):
    """Everything the platform holds about the signed-in citizen, as JSON (the export is audited)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: dict})
    def get(self, request):
        data = services.citizen_data_export(actor=Actor.for_user(request.user), ip_address=client_address(request))
        response = Response(data)
        response["Cache-Control"] = "private, no-store"
        return response


class CitizenDeleteApi(APIView):
    """Delete the signed-in citizen's account and data; answers what was deleted and what was kept, and why."""

    permission_classes = [IsAuthenticated]

    @extend_schema_serializer(component_name="CitizenDeletionRequest")
    class InputSerializer(serializers.Serializer):
        current_password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={200: dict})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = services.citizen_data_delete(actor=Actor.for_user(request.user),
                                              password=data.validated_data["current_password"])
        return Response({"status": "deleted", "deleted": record.deleted, "kept": record.kept})
