"""Citizen photos on an SOS: upload (the owner), list and download (the owner and responders)."""

from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.evidence import evidence_open, evidence_response
from common.errors import NotFound
from common.ratelimit import client_address
from sos import hooks
from sos.images import sos_images_add
from sos.models import SOS, SOSImage
from sos.permissions import HasUserOrSOSToken, actor_from_request, require_owner_or_responder


class SOSImageOutput(serializers.ModelSerializer):
    sos_request = serializers.IntegerField(source="sos_request_id")
    image = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField()

    class Meta:
        model = SOSImage
        fields = ("id", "sos_request", "image", "image_url", "description", "sha256", "content_type",
                  "size_bytes", "width", "height", "uploaded_at")

    def get_image(self, photo) -> str:
        """The download URL: it needs the same credentials as the SOS itself (no public link)."""
        path = reverse("sos-image-download", args=[photo.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_image_url(self, photo) -> str:
        return self.get_image(photo)


class UploadSOSImagesApi(APIView):
    """Multipart `sos_id`, `images` (1 to 3), `descriptions` (optional, one per image)."""

    permission_classes = [HasUserOrSOSToken]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        sos_id = serializers.IntegerField(min_value=1)

    @extend_schema(request={"multipart/form-data": inline_serializer("SOSImagesUploadInput", {
        "sos_id": serializers.IntegerField(min_value=1),
        "images": serializers.ListField(child=serializers.ImageField(), min_length=1, max_length=3),
        "descriptions": serializers.ListField(child=serializers.CharField(max_length=255), required=False),
    })}, responses={201: inline_serializer("SOSImagesUploaded", {
        "status": serializers.CharField(), "message": serializers.CharField(),
        "uploaded_images": SOSImageOutput(many=True)})})
    def post(self, request):
        data = self.InputSerializer(data={"sos_id": request.data.get("sos_id")})
        data.is_valid(raise_exception=True)
        photos = sos_images_add(
            sos_id=data.validated_data["sos_id"], images=request.FILES.getlist("images"),
            descriptions=[str(d) for d in request.data.getlist("descriptions")], actor=actor_from_request(request),
        )
        return Response({"status": "success", "message": f"Successfully uploaded {len(photos)} image(s)",
                         "uploaded_images": SOSImageOutput(photos, many=True, context={"request": request}).data},
                        status=status.HTTP_201_CREATED)


class GetSOSImagesApi(APIView):
    permission_classes = [HasUserOrSOSToken]

    @extend_schema(responses={200: inline_serializer("SOSImages", {
        "status": serializers.CharField(), "sos_id": serializers.IntegerField(), "count": serializers.IntegerField(),
        "images": SOSImageOutput(many=True)})})
    def get(self, request, sos_id: int):
        sos = SOS.objects.filter(pk=sos_id).only("id", "owner", "access_token_hash").first()
        if sos is None:
            raise NotFound("SOS not found")
        require_owner_or_responder(actor_from_request(request), sos)
        photos = SOSImage.objects.filter(sos_request_id=sos_id).order_by("-uploaded_at", "-id")
        images = SOSImageOutput(photos, many=True, context={"request": request}).data
        return Response({"status": "success", "message": "Images fetched successfully", "sos_id": sos_id,
                         "count": len(images), "images": images})


class SOSImageDownloadApi(APIView):
    """The photo itself, for the SOS's owner and responders."""

    permission_classes = [HasUserOrSOSToken]

    @extend_schema(responses={(200, "image/*"): bytes})
    def get(self, request, image_id: int):
        photo = SOSImage.objects.select_related("sos_request").filter(pk=image_id).first()
        if photo is None:
            raise NotFound("Image not found.")
        actor = actor_from_request(request)
        require_owner_or_responder(actor, photo.sos_request)
        delivery = evidence_open(
            photo.image.storage, photo.image.name, content_type=photo.content_type,
            filename=f"sos-{photo.sos_request_id}-photo-{photo.pk}.{photo.extension}",
            missing="The photo is missing from storage.",
        )
        # Recorded once the file is known to be there, and before it is handed out.
        with transaction.atomic():
            hooks.sos_photo_viewed.fire(sos_id=photo.sos_request_id, photo_id=photo.pk, actor=actor,
                                        ip_address=client_address(request))
        return evidence_response(delivery)
