"""Thin DRF views for the SOS API: parse input, check who is asking, call one service, shape output."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Unit
from common.api.permissions import IsResponder
from common.api.serializers import AuditEntryOutput
from common.errors import InvalidInput, NotFound
from common.geo import LATITUDE_FIELD, LONGITUDE_FIELD
from common.languages import citizen_language
from common.ratelimit import client_address
from sos import hooks, selectors, services
from sos.filters import SOSFilter
from sos.flood import sos_flood_assess
from sos.image_apis import SOSImageOutput
from sos.models import SOS, OfficerAssignment
from sos.permissions import HasUserOrSOSToken, actor_from_request, may_see_phone, require_may_see

IDEMPOTENCY_HEADER = "Idempotency-Key"


class CitizenLanguage:
    """For the endpoints a citizen's phone calls: their messages in her language (`?lang=` or Accept-Language)."""

    def dispatch(self, request, *args, **kwargs):
        with translation.override(citizen_language(request)):
            return super().dispatch(request, *args, **kwargs)


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


class LastKnownOutput(serializers.Serializer):
    latitude = serializers.FloatField(source="last_known_latitude")
    longitude = serializers.FloatField(source="last_known_longitude")
    accuracy_m = serializers.FloatField(source="last_known_accuracy_m", allow_null=True)
    recorded_at = serializers.DateTimeField(source="last_known_at", allow_null=True)
    age_s = serializers.IntegerField(source="last_known_age_s", allow_null=True,
                                     help_text="How old the fix was when the SOS was raised.")


class SOSOutput(serializers.ModelSerializer):
    sos_id = serializers.IntegerField(source="id")
    latitude = serializers.FloatField(source="last_latitude", allow_null=True)
    longitude = serializers.FloatField(source="last_longitude", allow_null=True)
    distance_km = serializers.SerializerMethodField()
    is_open = serializers.BooleanField(read_only=True)
    last_known = serializers.SerializerMethodField()

    class Meta:
        model = SOS
        fields = (
            "id", "sos_id", "room_id", "name", "sos_type", "status", "is_open", "phone", "latitude", "longitude",
            "last_located_at", "initial_latitude", "initial_longitude", "accuracy_m", "location_pending",
            "suspected_flood", "flood_source", "duress_at", "has_cancel_pin", "last_known", "device_hints",
            "created_at", "updated_at", "closed_at", "distance_km",
        )

    def to_representation(self, sos):
        data = super().to_representation(sos)
        actor = self.context.get("actor")
        # Officers see a victim's number once the alert is their unit's (sos.permissions).
        if actor is not None and data.get("phone") and not may_see_phone(actor, sos):
            data["phone"] = ""
        if self.context.get("for_owner"):
            # Whoever holds the phone may be forcing her: to the owner, a cancel under duress is a cancel.
            data.pop("duress_at")
            if sos.under_duress:
                data.update(status=SOS.Status.CANCELLED, is_open=False,
                            closed_at=serializers.DateTimeField().to_representation(sos.duress_at))
        return data

    @extend_schema_field(LastKnownOutput(allow_null=True))
    def get_last_known(self, sos) -> dict | None:
        return LastKnownOutput(sos).data if sos.last_known_latitude is not None else None

    def get_distance_km(self, sos) -> float | None:
        distance = getattr(sos, "distance_km", None)
        return round(distance, 3) if distance is not None else None


class CameraLinkOutput(serializers.Serializer):
    camera_id = serializers.CharField(source="camera.camera_id")
    name = serializers.CharField(source="camera.name")
    health = serializers.CharField(source="camera.health")
    latitude = serializers.FloatField(source="camera.latitude")
    longitude = serializers.FloatField(source="camera.longitude")
    source = serializers.CharField()
    reason = serializers.CharField()
    distance_m = serializers.FloatField(allow_null=True)
    linked_at = serializers.DateTimeField()
    left_at = serializers.DateTimeField(allow_null=True)
    left_reason = serializers.CharField()


class SOSDetailOutput(SOSOutput):
    locations = LocationOutput(many=True, source="recent_points",
                               help_text="The newest SOS_DETAIL_MAX_POINTS points, oldest first.")
    assignments = AssignmentOutput(many=True)
    audit_trail = AuditEntryOutput(many=True)
    images = SOSImageOutput(many=True)  # the citizen's photos (download URLs need the same credentials)
    cameras = serializers.SerializerMethodField(help_text="Cameras linked to it, current and past: responders only.")

    class Meta(SOSOutput.Meta):
        fields = SOSOutput.Meta.fields + ("locations", "assignments", "audit_trail", "images", "cameras")

    @extend_schema_field(CameraLinkOutput(many=True))
    def get_cameras(self, sos) -> list:
        # Which cameras watch a place, and which are down, is for the police only: an SOS raised to probe the
        # cameras around a place must learn nothing about them.
        if not self.context.get("responder"):
            return []
        return CameraLinkOutput(sos.camera_links.all(), many=True).data

    def to_representation(self, sos):
        data = super().to_representation(sos)
        if self.context.get("for_owner") and sos.under_duress:
            # The owner's view ends at the (apparent) cancel: nothing after it, and the cancel reads as one.
            trail = []
            for entry in data["audit_trail"]:
                if entry["action"] == "cancelled_under_duress":
                    trail.append({**entry, "action": "cancelled", "to_status": SOS.Status.CANCELLED})
                    break
                if entry["action"] not in ("wrong_pin", "pin_set"):
                    trail.append(entry)
            data["audit_trail"] = trail
            data["assignments"] = [a for a in data["assignments"] if a["assigned_at"] <= data["closed_at"]]
        return data


# Writes -----------------------------------------------------------------------------------------


class LastKnownInput(serializers.Serializer):
    """The last fix the phone had cached before the press, sent when it has no fresh one."""

    latitude = serializers.FloatField(**LATITUDE_FIELD)
    longitude = serializers.FloatField(**LONGITUDE_FIELD)
    accuracy_m = serializers.FloatField(min_value=0, required=False, allow_null=True)
    recorded_at = serializers.DateTimeField(required=False, allow_null=True)


# A phone number as people type it: digits with spaces, dots, dashes, brackets and a leading '+'.
PHONE_PATTERN = r"^\+?[0-9][0-9 .()-]{1,30}[0-9]$"

# What an SOS does not need. A bad value of any of these is dropped, noted on the SOS ("details dropped")
# and named in the response, never a reason to refuse it: a genuine SOS must get through even from a client
# with a bug. Only a body that is not an object at all is refused.
OPTIONAL_SOS_DETAILS = frozenset({
    "name", "sos_type", "initial_latitude", "initial_longitude", "accuracy_m", "phone", "last_known",
    "device_hints", "idempotency_key", "cancel_pin", "duress_pin", "device_id",
})

# A detail the service refuses (its field name) -> the arguments of sos_create that are emptied, and the
# input field reported. A position needs both coordinates, so a bad one drops the pair.
_POSITION = {"latitude": None, "longitude": None, "accuracy_m": None}
_SERVICE_DROPS = {
    "latitude": ("initial_latitude", _POSITION),
    "longitude": ("initial_longitude", _POSITION),
    "accuracy_m": ("accuracy_m", {"accuracy_m": None}),
    "last_known_latitude": ("last_known", {"last_known": None}),
    "last_known_longitude": ("last_known", {"last_known": None}),
    "last_known_accuracy_m": ("last_known", {"last_known": None}),
    "last_known_at": ("last_known", {"last_known": None}),
    "device_hints": ("device_hints", {"device_hints": None}),
    "pin": ("cancel_pin", {"cancel_pin": "", "duress_pin": ""}),  # a duress PIN needs a cancel PIN
    "duress_pin": ("duress_pin", {"duress_pin": ""}),
}

def _no_control_characters(value: str) -> None:
    # A function, not an inverse RegexValidator: the schema would show its pattern as one to match.
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise serializers.ValidationError("No control characters.")


_INPUT_NAMES = {"latitude": "initial_latitude", "longitude": "initial_longitude"}


def _messages(errors) -> list[str]:
    """DRF's errors of one field (a list, or a dict for a nested object) as plain sentences."""
    if isinstance(errors, dict):
        return [f"{key}: {message}" for key, value in errors.items() for message in _messages(value)]
    if isinstance(errors, list):
        return [message for error in errors for message in _messages(error)]
    return [str(errors)]


def _valid_dropping_bad_details(serializer_class, data) -> tuple[dict, dict]:
    """The validated input and {field: reasons} of the optional details that had to be dropped for it."""
    dropped = {}
    body = data.copy() if hasattr(data, "copy") else data
    while True:
        serializer = serializer_class(data=body)
        if serializer.is_valid():
            return serializer.validated_data, dropped
        bad = set(serializer.errors)
        if not hasattr(body, "pop") or not bad or bad - OPTIONAL_SOS_DETAILS:
            raise serializers.ValidationError(serializer.errors)
        for field in bad:
            dropped[field] = _messages(serializer.errors[field])
            body.pop(field, None)


def _create_dropping_bad_details(create: dict, key: str | None, dropped: dict):
    """Raise the SOS; a detail the service refuses is dropped and the SOS raised without it."""
    for _ in range(len(_SERVICE_DROPS) + 1):
        try:
            create["dropped_details"] = sorted(dropped)
            if key:
                return services.sos_create_once(idempotency_key=key, **create)
            sos, token = services.sos_create(**create)
            return sos, token, False
        except InvalidInput as refused:
            if not refused.fields or set(refused.fields) - set(_SERVICE_DROPS):
                raise
            for field, reasons in refused.fields.items():
                reported, emptied = _SERVICE_DROPS[field]
                dropped.setdefault(reported, []).extend(_messages(reasons))
                for argument, empty in emptied.items():
                    companion = _INPUT_NAMES.get(argument, argument)
                    if create.get(argument) not in (None, "", empty) and companion != reported:
                        dropped.setdefault(companion, []).append(f"Dropped with {reported}.")
                    create[argument] = empty
    raise InvalidInput("Invalid SOS.")  # pragma: no cover - every round empties at least one detail


class SOSCreateApi(CitizenLanguage, APIView):
    """Raise an SOS. Anyone may, signed in or not; the response holds the one copy of its access token.

    A bad optional detail (phone, position, last known position, device hints, PINs, idempotency key ...)
    is dropped, not refused: the SOS is raised without it, flagged, and `dropped` names it.
    """

    permission_classes = [AllowAny]
    # No refusal per address: sos/flood.py flags and groups floods, and refuses only beyond a hard ceiling.

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=120, allow_blank=True, required=False, default="Anonymous",
                                     validators=[_no_control_characters])
        sos_type = serializers.ChoiceField(choices=SOS.Type.choices, required=False, default=SOS.Type.EMERGENCY,
                                           help_text="0 (emergency) unless said otherwise.")
        # Without coordinates the SOS is still raised, as `location_pending`; the phone streams its first
        # fix to update-location when it has one.
        initial_latitude = serializers.FloatField(**LATITUDE_FIELD, required=False, allow_null=True)
        initial_longitude = serializers.FloatField(**LONGITUDE_FIELD, required=False, allow_null=True)
        accuracy_m = serializers.FloatField(min_value=0, required=False, allow_null=True)
        phone = serializers.RegexField(PHONE_PATTERN, max_length=32, required=False, allow_blank=True, default="")
        last_known = LastKnownInput(required=False, allow_null=True)
        device_hints = serializers.DictField(required=False, allow_empty=True)
        idempotency_key = serializers.CharField(max_length=100, required=False, allow_blank=True)
        cancel_pin = serializers.CharField(max_length=4, required=False, allow_blank=True, default="",
                                           help_text="4 digits; once set, cancelling needs it.")
        duress_pin = serializers.CharField(max_length=4, required=False, allow_blank=True, default="",
                                           help_text="4 digits; cancelling with it looks like a cancel but keeps the SOS open.")
        device_id = serializers.RegexField(r"^[A-Za-z0-9_-]{8,64}$", required=False, allow_blank=True, default="",
                                           help_text="A random id the phone keeps, so flood control counts phones, not addresses.")

    @extend_schema(request=InputSerializer, examples=[
        OpenApiExample("With a position", request_only=True, value={
            "name": "Asha", "sos_type": 0, "initial_latitude": 12.9716, "initial_longitude": 77.5946,
            "accuracy_m": 15, "phone": "+919876543210"}),
        OpenApiExample("Without a position yet (location pending)", request_only=True, value={
            "name": "Asha", "sos_type": 0, "phone": "+919876543210",
            "last_known": {"latitude": 22.57, "longitude": 88.36, "accuracy_m": 40,
                           "recorded_at": "2026-11-21T14:10:00Z"},
            "device_hints": {"timezone": "Asia/Kolkata", "network": "3g", "battery_percent": 14}}),
        OpenApiExample("Raised", response_only=True, status_codes=["201"], value={
            "status": "success", "message": "SOS created successfully", "sos_id": 1,
            "room_id": "2af8d043-574a-41d3-931b-158dcfa7e1d5", "access_token": "$SOS_TOKEN", "dropped": {}}),
        OpenApiExample("Raised without a bad phone number", response_only=True, status_codes=["201"], value={
            "status": "success", "message": "SOS created successfully", "sos_id": 2,
            "room_id": "8c0d5e1b-1f2a-4c3d-9e4f-5a6b7c8d9e0f", "access_token": "$SOS_TOKEN",
            "dropped": {"phone": ["This value does not match the required pattern."]}}),
    ], parameters=[OpenApiParameter(
        IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=False,
        description="A random key made on the phone for this press (or `idempotency_key` in the body): "
                    "a retry with the same key answers the same SOS and token instead of raising another.")],
        responses={201: inline_serializer("SOSCreated", {
            "status": serializers.CharField(), "message": serializers.CharField(), "sos_id": serializers.IntegerField(),
            "room_id": serializers.UUIDField(), "access_token": serializers.CharField(),
            "dropped": serializers.DictField(child=serializers.ListField(child=serializers.CharField()), help_text=(
                "Optional details that were invalid, with why: the SOS was raised without them."))})})
    def post(self, request):
        v, dropped = _valid_dropping_bad_details(self.InputSerializer, request.data)
        create = dict(
            name=v["name"], sos_type=v["sos_type"], latitude=v.get("initial_latitude"),
            longitude=v.get("initial_longitude"), accuracy_m=v.get("accuracy_m"), phone=v["phone"], owner=request.user,
            last_known=v.get("last_known"), device_hints=v.get("device_hints"),
            cancel_pin=v["cancel_pin"], duress_pin=v["duress_pin"],
        )
        key = request.headers.get(IDEMPOTENCY_HEADER) or v.get("idempotency_key")
        if key:
            try:
                services.validate_idempotency_key(key)
            except InvalidInput as refused:
                dropped["idempotency_key"] = _messages(refused.fields["idempotency_key"])
                key = None
        # A retry of an SOS already raised is answered again, and not counted as another.
        if not (key and selectors.sos_by_idempotency_key(key)):
            verdict = sos_flood_assess(request, device_id=v["device_id"])
            if verdict.over_ceiling:
                number = settings.SOS_EMERGENCY_NUMBER
                raise Throttled(wait=verdict.retry_after_s, detail=gettext(
                    "Too many SOS from this network. Call %(number)s or send an SMS to %(number)s now.") % {"number": number})
            create.update(suspected_flood=verdict.suspected, flood_source=verdict.source)
        sos, token, replayed = _create_dropping_bad_details(create, key, dropped)
        response = Response(
            {"status": "success", "message": "SOS created successfully", "sos_id": sos.pk,
             "room_id": str(sos.room_id), "access_token": token, "dropped": dropped},
            status=status.HTTP_201_CREATED,
        )
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class LocationUpdateApi(CitizenLanguage, APIView):
    """Add a point to an SOS's trail: its owner (account or access token) or a responder."""

    permission_classes = [HasUserOrSOSToken]

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


class CancelOnBehalfApi(APIView):
    """A responder cancels an SOS for the citizen (she called to say she is safe); the note is required."""

    permission_classes = [IsResponder]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=1000, help_text="How the responder knows she is safe.")

    @extend_schema(request=InputSerializer, responses={200: inline_serializer("SOSCancelledOnBehalf", {
        "status": serializers.CharField(), "sos": SOSOutput()})})
    def post(self, request, sos_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sos = services.sos_cancel_on_behalf(sos_id=sos_id, actor=actor_from_request(request),
                                            note=data.validated_data["note"])
        return Response({"status": "SOS cancelled on the citizen's behalf", "sos": SOSOutput(sos).data})


class UnassignApi(APIView):
    """Take a unit off an open SOS (the assignment's id from the SOS detail); audited, optional note."""

    permission_classes = [IsResponder]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: inline_serializer("SOSUnassigned", {
        "status": serializers.CharField(), "sos": SOSOutput()})})
    def post(self, request, sos_id: int, assignment_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sos = services.sos_unassign(sos_id=sos_id, assignment_id=assignment_id, actor=actor_from_request(request),
                                    note=data.validated_data["note"])
        return Response({"status": "Unit unassigned", "sos": SOSOutput(sos).data})


class CancelSOSApi(CitizenLanguage, APIView):
    """The owner withdraws a false alarm (with their account or the access token), with the PIN if one is set.

    The duress PIN gets exactly this answer too; the SOS stays open for the police.
    """

    permission_classes = [HasUserOrSOSToken]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
        pin = serializers.CharField(max_length=4, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: inline_serializer("SOSCancelled", {
        "status": serializers.CharField(), "sos": SOSOutput()})})
    def post(self, request, sos_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        actor = actor_from_request(request)
        sos = services.sos_cancel(sos_id=sos_id, actor=actor, reason=v["note"], pin=v["pin"])
        return Response({"status": "SOS cancelled", "sos": SOSOutput(sos, context=_viewer(actor)).data})


class SetPinApi(CitizenLanguage, APIView):
    """The owner sets the cancel PIN and an optional duress PIN of an open SOS (the current PIN to change one)."""

    permission_classes = [HasUserOrSOSToken]

    class InputSerializer(serializers.Serializer):
        pin = serializers.CharField(max_length=4)
        duress_pin = serializers.CharField(max_length=4, required=False, allow_blank=True, default="")
        current_pin = serializers.CharField(max_length=4, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: inline_serializer("PinSet", {
        "status": serializers.CharField(), "has_cancel_pin": serializers.BooleanField()})})
    def post(self, request, sos_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        services.sos_pin_set(sos_id=sos_id, actor=actor_from_request(request), pin=v["pin"],
                             duress_pin=v["duress_pin"], current_pin=v["current_pin"])
        return Response({"status": "PIN set", "has_cancel_pin": True})


def _viewer(actor) -> dict:
    """Serializer context: responders see everything; the owner's phone never sees a duress flag."""
    return {"for_owner": not actor.is_responder}


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


class SOSViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Responders list every SOS; citizens their own. Filters: status (comma list), near=lat,lng with radius_km."""

    serializer_class = SOSOutput
    permission_classes = [IsAuthenticated]
    queryset = SOS.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = SOSFilter

    def get_queryset(self):
        return selectors.sos_visible_to(self.request.user).select_related("owner").order_by("-created_at", "-id")

    def get_serializer_context(self):
        # One definition: a second one silently replaced the first, and the owner's list lost `for_owner`.
        actor = actor_from_request(self.request)
        return {**super().get_serializer_context(), **_viewer(actor), "actor": actor}


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
        hooks.sos_trail_read.fire(sos_id=sos.pk, actor=actor, ip_address=client_address(request))
        context = {"request": request, "responder": actor.is_responder, "actor": actor, **_viewer(actor)}
        data = SOSDetailOutput(sos, context=context).data
        for extra in hooks.sos_detail_extras.fire(request=request, sos=sos):
            data.update(extra)
        return Response(data)


class CrewOutput(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name", help_text="The officer's full name (the username if none).")

    def to_representation(self, officer):
        data = super().to_representation(officer)
        data["name"] = data["name"] or officer.username
        return data


class UnitOutput(serializers.ModelSerializer):
    officers = serializers.SerializerMethodField()
    crew = serializers.SerializerMethodField(help_text="The roster with names: what a dispatcher picks an officer from.")

    class Meta:
        model = Unit
        fields = ("unit_number", "name", "status", "last_latitude", "last_longitude", "last_accuracy_m",
                  "last_seen_at", "officers", "crew")

    def get_officers(self, unit) -> list[str]:
        return [officer.username for officer in unit.officers.all()]

    @extend_schema_field(CrewOutput(many=True))
    def get_crew(self, unit) -> list[dict]:
        return CrewOutput(unit.officers.all(), many=True).data


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
