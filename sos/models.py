"""SOS alerts, the trail of locations behind each, officer assignments and the audit trail."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.audit import AuditEntry
from common.tokens import hash_secret
from incidents.storage import EXTENSION_BY_CONTENT_TYPE, evidence_storage


class SOS(models.Model):
    class Type(models.IntegerChoices):
        EMERGENCY = 0, "Emergency"
        ALERT = 1, "Alert"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        DISPATCHED = "dispatched", "Dispatched"
        ON_SCENE = "on_scene", "On scene"
        RESOLVED = "resolved", "Resolved"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES = (Status.ACTIVE, Status.ACKNOWLEDGED, Status.DISPATCHED, Status.ON_SCENE)

    room_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    sos_type = models.PositiveSmallIntegerField(choices=Type.choices, default=Type.EMERGENCY)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sos_requests"
    )
    phone = models.CharField(max_length=32, blank=True)
    # Only the SHA-256 of the creator's access token is kept; the token itself is shown once.
    access_token_hash = models.CharField(max_length=64, editable=False)
    # No position yet (no fix, location denied): the SOS is still raised, flagged `location_pending`,
    # and these stay empty until the phone's first point arrives.
    initial_latitude = models.FloatField(null=True, blank=True)
    initial_longitude = models.FloatField(null=True, blank=True)
    # The accuracy of the newest fix, as `last_latitude`/`last_longitude` are its position.
    accuracy_m = models.FloatField(null=True, blank=True)
    last_latitude = models.FloatField(null=True, blank=True)
    last_longitude = models.FloatField(null=True, blank=True)
    last_located_at = models.DateTimeField(null=True, blank=True)
    location_pending = models.BooleanField(default=False, db_index=True)
    # What helps find her while the location is pending: the last position the phone had cached
    # before the press (with the time of that fix), and coarse hints (time zone, language, network).
    last_known_latitude = models.FloatField(null=True, blank=True)
    last_known_longitude = models.FloatField(null=True, blank=True)
    last_known_accuracy_m = models.FloatField(null=True, blank=True)
    last_known_at = models.DateTimeField(null=True, blank=True)
    device_hints = models.JSONField(default=dict, blank=True)
    # The SHA-256 of the key the phone sent with its create: a retry or a second press with the same key
    # answers this SOS again (with the same access token) instead of raising another.
    # Raised beyond the flood threshold of its source (sos/flood.py): shown grouped by `flood_source`
    # (an opaque label of the address) rather than alerting one by one.
    suspected_flood = models.BooleanField(default=False, db_index=True)
    flood_source = models.CharField(max_length=16, blank=True)
    # The citizen's 4-digit cancel PIN and duress PIN, hashed like passwords. A cancel with the duress PIN
    # looks like a cancel to the phone, but the SOS stays open, flagged from `duress_at`, and escalates.
    cancel_pin_hash = models.CharField(max_length=128, blank=True, editable=False)
    duress_pin_hash = models.CharField(max_length=128, blank=True, editable=False)
    pin_failures = models.PositiveSmallIntegerField(default=0)
    duress_at = models.DateTimeField(null=True, blank=True, db_index=True)
    idempotency_key_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SOS"
        verbose_name_plural = "SOS alerts"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self):
        return f"SOS #{self.pk} {self.name} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def has_position(self) -> bool:
        return self.last_latitude is not None and self.last_longitude is not None

    def last_known_age_s(self) -> int | None:
        """How old the cached position the phone sent with the SOS was, at the time it was raised."""
        if self.last_known_at is None:
            return None
        return max(0, int((self.created_at - self.last_known_at).total_seconds()))

    @property
    def under_duress(self) -> bool:
        return self.duress_at is not None

    @property
    def has_cancel_pin(self) -> bool:
        return bool(self.cancel_pin_hash)

    def token_matches(self, token: str | None) -> bool:
        return bool(token) and hash_secret(token) == self.access_token_hash

    def alert_payload(self) -> dict:
        """What email and webhook alerts about this SOS carry: never its token, phone or trail."""
        return {
            "sos_id": self.pk,
            "room_id": str(self.room_id),
            "name": self.name,
            "sos_type": self.sos_type,
            "status": self.status,
            "latitude": self.last_latitude,
            "longitude": self.last_longitude,
            "accuracy_m": self.accuracy_m,
            "created_at": self.created_at.isoformat(),
        }


class LocationUpdate(models.Model):
    sos_request = models.ForeignKey(SOS, on_delete=models.CASCADE, related_name="locations")
    latitude = models.FloatField()
    longitude = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["sos_request", "recorded_at"])]

    def as_point(self) -> dict:
        return {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "accuracy_m": self.accuracy_m,
            "timestamp": self.recorded_at.isoformat(),
        }


class OfficerAssignment(models.Model):
    sos_request = models.ForeignKey(SOS, on_delete=models.CASCADE, related_name="assignments")
    officer_name = models.CharField(max_length=120)
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["assigned_at", "id"]


def sos_image_upload_to(instance, filename: str) -> str:
    """sos/YYYY/MM/DD/<uuid>.<ext>: unguessable, and nothing of the citizen's file name."""
    return f"sos/{timezone.now():%Y/%m/%d}/{uuid.uuid4()}.{EXTENSION_BY_CONTENT_TYPE[instance.content_type]}"


class SOSImage(models.Model):
    """A photo the person who raised an SOS attached to it: private, like incident evidence."""

    sos_request = models.ForeignKey(SOS, on_delete=models.CASCADE, related_name="images")
    image = models.FileField(upload_to=sos_image_upload_to, storage=evidence_storage, max_length=255)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=32)
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    description = models.CharField(max_length=255, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        verbose_name = "SOS photo"
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.image.name

    @property
    def extension(self) -> str:
        return self.image.name.rsplit(".", 1)[-1]


class SOSAuditEntry(AuditEntry):
    """Who changed what on an SOS, and when. Written by services only; never edited."""

    sos_request = models.ForeignKey(SOS, on_delete=models.CASCADE, related_name="audit_trail")
    subject_field = "sos_request"

    class Meta(AuditEntry.Meta):
        verbose_name = "SOS audit entry"
        verbose_name_plural = "SOS audit trail"
