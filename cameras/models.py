"""Cameras as dispatchers see them: where they are, what they cover, how healthy they are, which SOS they watch."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from cameras import geometry
from common.geo import LATITUDE_VALIDATORS, LONGITUDE_VALIDATORS
from incidents.models import BEACON_ID_VALIDATOR, Beacon, Device, Incident
from incidents.storage import evidence_storage, evidence_upload_to

# A camera with nothing but a position covers a circle this wide around itself.
DEFAULT_RANGE_M = 30.0


class Camera(models.Model):
    """One camera: the worker's config keeps its stream and secrets, the server keeps what dispatchers need."""

    class State(models.TextChoices):
        OK = "ok", "OK"
        RECONNECTING = "reconnecting", "Reconnecting"
        DOWN = "down", "Down"

    camera_id = models.CharField(
        max_length=64, unique=True, validators=[BEACON_ID_VALIDATOR],
        help_text="The camera's id in the worker's configuration (cameras[].id).",
    )
    name = models.CharField(max_length=120)
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="cameras",
                               help_text="The device whose worker runs this camera and sends its heartbeats.")
    beacon = models.ForeignKey(Beacon, on_delete=models.PROTECT, related_name="cameras",
                               help_text="The beacon its reports (and its offline incidents) go to.")
    latitude = models.FloatField(validators=LATITUDE_VALIDATORS)
    longitude = models.FloatField(validators=LONGITUDE_VALIDATORS)
    heading_deg = models.FloatField(null=True, blank=True, help_text="Where it looks, clockwise from north.")
    fov_deg = models.FloatField(null=True, blank=True, help_text="Horizontal field of view, degrees.")
    range_m = models.FloatField(null=True, blank=True, help_text="How far it sees usefully, metres.")
    coverage = models.JSONField(
        default=list, blank=True,
        help_text="The area it covers as [[latitude, longitude], ...]; empty: computed from heading, field of view "
                  "and range (or a circle of the range around the camera).",
    )
    enabled = models.BooleanField(default=True)
    # Health, as the last heartbeat told it and as the offline check decided.
    reported_state = models.CharField(max_length=16, choices=State.choices, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_frame_at = models.DateTimeField(null=True, blank=True)
    stats = models.JSONField(default=dict, blank=True, help_text="The last heartbeat's figures.")
    is_offline = models.BooleanField(default=False)
    offline_since = models.DateTimeField(null=True, blank=True)
    # Set when an offline camera starts reporting well again; it is back once this is old enough.
    back_since = models.DateTimeField(null=True, blank=True)
    offline_incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["camera_id"]

    def __str__(self):
        return f"{self.name} ({self.camera_id})"

    @property
    def health(self) -> str:
        """What the map colours: unknown (never heard from), offline, reconnecting or ok."""
        if self.is_offline:
            return "offline"
        if self.last_heartbeat_at is None:
            return "unknown"
        return "reconnecting" if self.reported_state == self.State.RECONNECTING else "ok"

    def coverage_polygon(self) -> list[list[float]]:
        """The drawn coverage, else the view computed from heading, field of view and range."""
        if self.coverage:
            return self.coverage
        position = (self.latitude, self.longitude)
        range_m = self.range_m or DEFAULT_RANGE_M
        if self.heading_deg is None or self.fov_deg is None:
            return geometry.sector(position, heading_deg=0.0, fov_deg=360.0, range_m=range_m)
        return geometry.sector(position, heading_deg=self.heading_deg, fov_deg=self.fov_deg, range_m=range_m)

    def is_silent(self, now: datetime, grace_s: float) -> bool:
        return self.last_heartbeat_at is None or (now - self.last_heartbeat_at).total_seconds() > grace_s

    def as_payload(self) -> dict:
        return {
            "camera_id": self.camera_id,
            "name": self.name,
            "health": self.health,
            "reported_state": self.reported_state,
            "last_heartbeat_at": self.last_heartbeat_at.isoformat() if self.last_heartbeat_at else None,
            "offline_since": self.offline_since.isoformat() if self.offline_since else None,
            "latitude": self.latitude,
            "longitude": self.longitude,
        }


class SOSCameraLink(models.Model):
    """A camera whose coverage met an SOS's uncertainty circle (or that a dispatcher linked by hand)."""

    class Source(models.TextChoices):
        POSITION = "position", "The SOS position"
        MANUAL = "manual", "A dispatcher"

    sos = models.ForeignKey("sos.SOS", on_delete=models.CASCADE, related_name="camera_links")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="sos_links")
    source = models.CharField(max_length=16, choices=Source.choices)
    reason = models.CharField(max_length=255)
    distance_m = models.FloatField(null=True, blank=True, help_text="From the SOS position to the coverage; 0 inside.")
    linked_at = models.DateTimeField(default=timezone.now)
    # Set when the SOS moved out of the camera's coverage (or a dispatcher unlinked it); the row stays as history.
    left_at = models.DateTimeField(null=True, blank=True)
    left_reason = models.CharField(max_length=255, blank=True)
    # A dispatcher's unlink is final for this SOS: the camera is not linked again however the SOS moves.
    unlinked_by_hand = models.BooleanField(default=False)

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sos", "camera"], condition=models.Q(left_at__isnull=True),
                                    name="one_current_link_per_sos_and_camera"),
        ]

    def __str__(self):
        return f"SOS #{self.sos_id} ↔ {self.camera_id}"

    @property
    def is_current(self) -> bool:
        return self.left_at is None

    def as_payload(self) -> dict:
        return {
            "camera_id": self.camera.camera_id,
            "name": self.camera.name,
            "source": self.source,
            "reason": self.reason,
            "linked_at": self.linked_at.isoformat(),
            "left_at": self.left_at.isoformat() if self.left_at else None,
        }


class SOSCameraEvidence(models.Model):
    """A key frame from a linked camera's last seconds before it was asked (pre-roll): private SOS evidence."""

    sos = models.ForeignKey("sos.SOS", on_delete=models.CASCADE, related_name="camera_evidence")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="sos_evidence")
    image = models.FileField(upload_to=evidence_upload_to, storage=evidence_storage, max_length=255)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=32)
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True, help_text="When the camera saw it, per the worker.")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sos", "captured_at", "id"]
        verbose_name_plural = "SOS camera evidence"

    @property
    def extension(self) -> str:
        return self.image.name.rsplit(".", 1)[-1]


class CameraSnapshot(models.Model):
    """A dispatcher's request for a camera's latest frame, and the frame once its worker has sent it.

    The platform cannot reach the worker (its operator port is bound to its own machine), so the request
    travels in the camera's next heartbeat answer and the worker posts the frame back. The original is
    kept privately like evidence; responders are shown the copy with faces blurred.
    """

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="snapshots")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_by_label = models.CharField(max_length=150)
    requested_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="The worker's frame is refused after this; the page stops waiting.")
    image = models.FileField(upload_to=evidence_upload_to, storage=evidence_storage, max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    content_type = models.CharField(max_length=32, blank=True)
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # The copy responders see: every face found blurred (privacy.redaction), PNG.
    redacted = models.FileField(storage=evidence_storage, max_length=255, blank=True)
    redacted_sha256 = models.CharField(max_length=64, blank=True)
    faces_found = models.PositiveIntegerField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True, help_text="When the camera saw it, per the worker.")
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["camera", "delivered_at", "expires_at"])]

    def __str__(self):
        return f"Snapshot #{self.pk} of {self.camera_id}"

    def status(self, now: datetime) -> str:
        """ready (the frame is here), pending (the worker may still send it) or expired."""
        if self.delivered_at is not None:
            return "ready"
        return "pending" if now < self.expires_at else "expired"

    def is_pending(self, now: datetime) -> bool:
        return self.status(now) == "pending"


class SOSCameraClip(models.Model):
    """A linked camera's pre-roll as a short video (the worker's optional clip of its key frames): private SOS
    evidence. Responders are shown `redacted`, every face blurred frame by frame; the original is kept as sent."""

    sos = models.ForeignKey("sos.SOS", on_delete=models.CASCADE, related_name="camera_clips")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="sos_clips")
    clip = models.FileField(storage=evidence_storage, max_length=255)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=32)
    size_bytes = models.PositiveIntegerField()
    redacted = models.FileField(storage=evidence_storage, max_length=255)
    redacted_sha256 = models.CharField(max_length=64)
    faces_found = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    frames = models.PositiveIntegerField()
    fps = models.FloatField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sos", "received_at", "id"]

    def __str__(self):
        return f"Pre-roll clip of {self.camera_id} for SOS #{self.sos_id}"
