"""Thin views: trusted contacts (signed-in citizens), live links (read-only, by token), walk-me-home check-ins."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from common.geo import LATITUDE_FIELD, LONGITUDE_FIELD
from contacts import selectors, services
from contacts.models import TrustedContact
from sos.permissions import HasUserOrSOSToken, actor_from_request


class ContactOutput(serializers.ModelSerializer):
    class Meta:
        model = TrustedContact
        fields = ("id", "name", "phone", "email", "created_at")


class ContactsApi(APIView):
    """A signed-in citizen's trusted contacts (at most 5): list and add."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=120)
        phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
        email = serializers.EmailField(required=False, allow_blank=True, default="")

    @extend_schema(responses=ContactOutput(many=True))
    def get(self, request):
        return Response(ContactOutput(TrustedContact.objects.filter(owner=request.user), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ContactOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = services.contact_add(owner=request.user, **data.validated_data)
        return Response(ContactOutput(contact).data, status=status.HTTP_201_CREATED)


class ContactDeleteApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, contact_id: int):
        services.contact_remove(owner=request.user, contact_id=contact_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LiveLinksRevokeApi(APIView):
    """The owner of an SOS revokes every live link her contacts got."""

    permission_classes = [HasUserOrSOSToken]

    @extend_schema(request=None, responses={200: inline_serializer("LiveLinksRevoked", {"revoked": serializers.IntegerField()})})
    def post(self, request, sos_id: int):
        return Response({"revoked": services.live_links_revoke(sos_id=sos_id, actor=actor_from_request(request))})


class LiveViewApi(APIView):
    """What a trusted contact's live link shows: her status and trail, until the SOS closes plus an hour."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: inline_serializer("LiveView", {
        "name": serializers.CharField(), "status": serializers.CharField(), "location_pending": serializers.BooleanField(),
        "created_at": serializers.DateTimeField(), "closed_at": serializers.DateTimeField(allow_null=True),
        "trail": serializers.ListField(child=serializers.DictField())})})
    def get(self, request, token: str):
        view = selectors.live_link_view(token=token)
        if view is None:
            raise NotFound("This link is unknown, revoked or expired.")
        return Response(_live_json(view))


def _live_json(view: dict) -> dict:
    field = serializers.DateTimeField()
    return {**view, "created_at": field.to_representation(view["created_at"]),
            "closed_at": field.to_representation(view["closed_at"]) if view["closed_at"] else None}


class CheckInOutput(serializers.Serializer):
    id = serializers.IntegerField()
    destination = serializers.CharField()
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    running = serializers.BooleanField(source="is_running")


class CheckInStartApi(APIView):
    """Start a walk-me-home timer: unless she checks in with her PIN before it runs out (plus grace), an SOS is raised."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        minutes = serializers.IntegerField()
        pin = serializers.CharField(max_length=4)
        destination = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={201: CheckInOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        checkin = services.checkin_start(owner=request.user, **data.validated_data)
        return Response(CheckInOutput(checkin).data, status=status.HTTP_201_CREATED)


class CheckInPointApi(APIView):
    """A position during the walk, kept private unless the check-in expires."""

    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        latitude = serializers.FloatField(**LATITUDE_FIELD)
        longitude = serializers.FloatField(**LONGITUDE_FIELD)
        accuracy_m = serializers.FloatField(min_value=0, required=False, allow_null=True)
        recorded_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: inline_serializer("CheckInPointAdded", {"status": serializers.CharField()})})
    def post(self, request, checkin_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.checkin_point_add(owner=request.user, checkin_id=checkin_id, **data.validated_data)
        return Response({"status": "Position kept"}, status=status.HTTP_201_CREATED)


class CheckInCompleteApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        pin = serializers.CharField(max_length=4)

    @extend_schema(request=InputSerializer, responses={200: CheckInOutput})
    def post(self, request, checkin_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        checkin = services.checkin_complete(owner=request.user, checkin_id=checkin_id, pin=data.validated_data["pin"])
        return Response(CheckInOutput(checkin).data)
