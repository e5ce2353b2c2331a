"""Beacons and detection devices, AI reports, the incidents they raise, their evidence, audit trail and alerts."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from common.audit import AuditEntry
from common.geo import LATITUDE_VALIDATORS, LONGITUDE_VALIDATORS
from common.tokens import hash_secret
from incidents.storage import evidence_storage, evidence_upload_to

BEACON_ID_VALIDATOR = RegexValidator(r"^[A-Za-z0-9:._-]+$", "Letters, digits and ':', '.', '_', '-' only.")


class DetectionKind(models.TextChoices):
    """What a device may report."""

    VIOLENCE = "violence", "Violence"
    SCREAM = "scream", "Scream"
    CAMERA_TAMPER = "camera_tamper", "Camera tampered with"


class IncidentKind(models.TextChoices):
    """What an incident is about: a device's report, or what the platform noticed itself (a camera gone silent)."""

    VIOLENCE = "violence", "Violence"
    SCREAM = "scream", "Scream"
    CAMERA_TAMPER = "camera_tamper", "Camera tampered with"
    CAMERA_OFFLINE = "camera_offline", "Camera offline"


class Beacon(models.Model):
    """A fixed, named place that detections are reported for (a hardware beacon or a camera's spot)."""

    beacon_id = models.CharField(max_length=128, unique=True, validators=[BEACON_ID_VALIDATOR])
    name = models.CharField(max_length=120)
    building = models.CharField(max_length=120, blank=True)
    floor = models.CharField(max_length=32, blank=True)
    latitude = models.FloatField(null=True, blank=True, validators=LATITUDE_VALIDATORS)
    longitude = models.FloatField(null=True, blank=True, validators=LONGITUDE_VALIDATORS)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "beacon_id"]

    def __str__(self):
        return f"{self.name} ({self.beacon_id})"

    def as_payload(self) -> dict:
        return {
            "beacon_id": self.beacon_id,
            "name": self.name,
            "building": self.building,
            "floor": self.floor,
            "latitude": self.latitude,
            "longitude": self.longitude,
        }


class Device(models.Model):
    """A camera or other detector that reports with `Authorization: Device <key>`."""

    class Kind(models.TextChoices):
        CAMERA = "camera", "Camera"
        MICROPHONE = "microphone", "Microphone"
        OTHER = "other", "Other"

    device_id = models.CharField(max_length=64, unique=True, validators=[BEACON_ID_VALIDATOR])
    name = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CAMERA)
    # PROTECT: deleting the beacon must not silently turn a bound device into one that may report anywhere.
    beacon = models.ForeignKey(
        Beacon, null=True, blank=True, on_delete=models.PROTECT, related_name="devices",
        help_text="The only beacon this device may report for; empty: any active beacon.",
    )
    is_active = models.BooleanField(default=True)
    # Only the SHA-256 of the key is kept; the key itself is shown once, when it is made.
    api_key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["device_id"]

    def __str__(self):
        return self.device_id

    @property
    def label(self) -> str:
        return f"device:{self.device_id}"

    def key_matches(self, raw_key: str | None) -> bool:
        return bool(raw_key) and hash_secret(raw_key) == self.api_key_hash

    def may_report_for(self, beacon_id: str) -> bool:
        return self.beacon is None or self.beacon.beacon_id == beacon_id


class AIEvent(models.Model):
    """One detection report, kept whatever its confidence and whatever became of it."""

    class Outcome(models.TextChoices):
        LOGGED_ONLY = "logged_only", "Logged only (below threshold)"
        INCIDENT_CREATED = "incident_created", "Created an incident"
        SIGNAL_ADDED = "signal_added_to_existing", "Joined an open incident"

    kind = models.CharField(max_length=16, choices=DetectionKind.choices)
    beacon = models.ForeignKey(Beacon, on_delete=models.PROTECT, related_name="ai_events")
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.PROTECT, related_name="ai_events")
    confidence_score = models.FloatField()
    threshold = models.FloatField(help_text="The kind's threshold when the report arrived.")
    description = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    incident = models.ForeignKey(
        "Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="ai_events"
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    idempotency_key = models.CharField(
        max_length=64, null=True, blank=True,
        help_text="The device's own id for this report: a report re-sent with it is answered, not stored again.",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "AI event"
        constraints = [
            models.UniqueConstraint(
                fields=["device", "idempotency_key"], condition=models.Q(idempotency_key__isnull=False),
                name="aievent_unique_device_idempotency_key",
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.kind} {self.confidence_score:.2f} @ {self.beacon_id}"


class Incident(models.Model):
    class Status(models.TextChoices):
        CREATED = "CREATED", "Created"
        ACKNOWLEDGED = "ACKNOWLEDGED", "Acknowledged"
        ASSIGNED = "ASSIGNED", "Assigned"
        IN_PROGRESS = "IN_PROGRESS", "In progress"
        RESOLVED = "RESOLVED", "Resolved"

    class Priority(models.TextChoices):
        LOW = "Low", "Low"
        MEDIUM = "Medium", "Medium"
        HIGH = "High", "High"
        CRITICAL = "Critical", "Critical"

    OPEN_STATUSES = (Status.CREATED, Status.ACKNOWLEDGED, Status.ASSIGNED, Status.IN_PROGRESS)
    PRIORITY_BY_KIND = {
        DetectionKind.VIOLENCE: Priority.CRITICAL, DetectionKind.SCREAM: Priority.HIGH,
        DetectionKind.CAMERA_TAMPER: Priority.HIGH,
    }
    PRIORITY_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.CRITICAL: 3}

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=IncidentKind.choices)
    beacon = models.ForeignKey(Beacon, on_delete=models.PROTECT, related_name="incidents")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED, db_index=True)
    priority = models.CharField(max_length=16, choices=Priority.choices)
    description = models.TextField(blank=True, help_text="From the report that opened the incident.")
    first_signal_at = models.DateTimeField(default=timezone.now)
    last_signal_at = models.DateTimeField(default=timezone.now)
    signal_count = models.PositiveIntegerField(default=0)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_signal_at"]
        indexes = [
            # The deduplication lookup: open incidents of one kind at one beacon, newest signal first.
            models.Index(fields=["beacon", "kind", "status", "-last_signal_at"]),
            models.Index(fields=["status", "-last_signal_at"]),
        ]

    def __str__(self):
        return f"{self.kind} at {self.beacon_id} ({self.status}, {self.priority})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @classmethod
    def priority_from_hint(cls, hint) -> str | None:
        """A device's `priority_hint` ("critical", "High", ...) as a priority; None when it names none."""
        by_lower = {value.lower(): value for value in cls.Priority.values}
        return by_lower.get(hint.strip().lower()) if isinstance(hint, str) else None

    def is_below(self, priority: str) -> bool:
        return self.PRIORITY_RANK[self.priority] < self.PRIORITY_RANK[priority]

    def status_after_assign(self) -> str:
        # Handing an incident already under way to another officer keeps it under way.
        return self.Status.IN_PROGRESS if self.status == self.Status.IN_PROGRESS else self.Status.ASSIGNED

    def event_payload(self) -> dict:
        """What realtime clients and webhooks receive; never evidence URLs (signed ones expire)."""
        return {
            "incident_id": str(self.pk),
            "kind": self.kind,
            "status": self.status,
            "priority": self.priority,
            "description": self.description,
            "beacon": self.beacon.as_payload(),
            "first_signal_at": self.first_signal_at.isoformat(),
            "last_signal_at": self.last_signal_at.isoformat(),
            "signal_count": self.signal_count,
            "assigned_to": self.assigned_to.username if self.assigned_to_id else None,
        }


class IncidentSignal(models.Model):
    """One report (or SOS) that fed an incident."""

    class Type(models.TextChoices):
        VIOLENCE_DETECTED = "VIOLENCE_DETECTED", "Violence detected"
        SCREAM_DETECTED = "SCREAM_DETECTED", "Scream detected"
        CAMERA_TAMPER = "CAMERA_TAMPER", "Camera tampered with"
        CAMERA_OFFLINE = "CAMERA_OFFLINE", "Camera offline"
        SOS = "SOS", "SOS"

    TYPE_BY_KIND = {
        DetectionKind.VIOLENCE: Type.VIOLENCE_DETECTED, DetectionKind.SCREAM: Type.SCREAM_DETECTED,
        DetectionKind.CAMERA_TAMPER: Type.CAMERA_TAMPER,
    }

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="signals")
    signal_type = models.CharField(max_length=32, choices=Type.choices)
    ai_event = models.OneToOneField(
        AIEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="signal"
    )
    sos = models.ForeignKey(
        "sos.SOS", null=True, blank=True, on_delete=models.SET_NULL, related_name="incident_signals"
    )
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confidence_score = models.FloatField(null=True, blank=True)
    description = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "id"]


class IncidentImage(models.Model):
    """One evidence image, private; its SHA-256 is taken from the bytes received, before storage."""

    ai_event = models.ForeignKey(AIEvent, on_delete=models.CASCADE, related_name="images")
    # Empty for a report below the threshold: the image is kept for manual review only.
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="images")
    image = models.FileField(upload_to=evidence_upload_to, storage=evidence_storage, max_length=255)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=32)
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    description = models.CharField(max_length=255, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.image.name

    @property
    def extension(self) -> str:
        return self.image.name.rsplit(".", 1)[-1]


class IncidentAudio(models.Model):
    """One evidence sound clip from a detection report, private like images, hashed from the bytes received."""

    ai_event = models.ForeignKey(AIEvent, on_delete=models.CASCADE, related_name="audio_clips")
    # Empty for a report below the threshold: the clip is kept for manual review only.
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="audio_clips"
    )
    audio = models.FileField(upload_to=evidence_upload_to, storage=evidence_storage, max_length=255)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=32)
    size_bytes = models.PositiveIntegerField()
    duration_s = models.FloatField()
    sample_rate = models.PositiveIntegerField()
    description = models.CharField(max_length=255, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = "incident audio clip"

    def __str__(self):
        return self.audio.name

    @property
    def extension(self) -> str:
        return self.audio.name.rsplit(".", 1)[-1]


class IncidentAuditEntry(AuditEntry):
    """Who did what to an incident, and when. Written by services only; never edited."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="audit_trail")
    subject_field = "incident"

    class Meta(AuditEntry.Meta):
        verbose_name = "incident audit entry"
        verbose_name_plural = "incident audit trail"


class AlertTarget(models.Model):
    """A recipient of alerts chosen in admin: an address or URL and the events it subscribes to.

    The targets in settings (ALERT_EMAIL_RECIPIENTS, ALERT_WEBHOOK_URLS) receive the raising events
    (`RAISED_EVENTS`); a target here receives exactly the events it lists, status changes included.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class Format(models.TextChoices):
        JSON = "json", "JSON"
        CAP = "cap", "CAP 1.2 XML"

    # Every event an alert can be sent for; the first group are the ones that ask for action.
    RAISED_EVENTS = ("incident_created", "incident_escalated", "sos_created", "sos_escalated",
                     "sos_cancelled_under_duress")
    STATUS_EVENTS = ("sos_acknowledged", "sos_assigned", "sos_on_scene", "sos_resolved", "sos_cancelled",
                     "incident_acknowledged", "incident_assigned", "incident_started", "incident_resolved")
    EVENTS = RAISED_EVENTS + STATUS_EVENTS

    name = models.CharField(max_length=100)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    target = models.CharField(max_length=500, help_text="An email address or a webhook URL.")
    events = models.JSONField(default=list, blank=True, help_text=f"Event names, any of: {', '.join(EVENTS)}.")
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.JSON,
                              help_text="Webhooks only: the body as JSON or as a CAP 1.2 alert.")
    is_supervisor = models.BooleanField(default=False, help_text="Told when an escalation step notifies supervisors.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return f"{self.name} ({self.channel} → {self.target})"

    def subscribes_to(self, event: str) -> bool:
        return self.is_active and event in self.events

    def clean(self):
        from django.core.exceptions import ValidationError

        if not isinstance(self.events, list) or not all(event in self.EVENTS for event in self.events):
            raise ValidationError({"events": f"A list of event names, any of: {', '.join(self.EVENTS)}."})
        if self.format == self.Format.CAP and self.channel != self.Channel.WEBHOOK:
            raise ValidationError({"format": "Only webhooks can take CAP XML."})


class AlertDelivery(models.Model):
    """One alert to send to one target: an outbox row, delivered by `manage.py send_alerts` (or run_worker).

    It is about an incident or an SOS (exactly one of the two).
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    Format = AlertTarget.Format

    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_deliveries"
    )
    sos = models.ForeignKey("sos.SOS", null=True, blank=True, on_delete=models.CASCADE, related_name="alert_deliveries")
    event = models.CharField(max_length=32, default="incident_created")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    target = models.CharField(max_length=500, help_text="An email address or a webhook URL.")
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.JSON)
    payload = models.JSONField(default=dict, help_text="The alert as it was when it was raised.")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A sender holds a row until this time and renews it while it sends; a sender that died gives it
    # up when the (short) lease passes.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Given up after ALERT_MAX_ATTEMPTS failures; an admin action can queue it again.
    dead_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["delivered_at", "next_attempt_at"])]
        verbose_name_plural = "alert deliveries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(incident__isnull=False, sos__isnull=True)
                | models.Q(incident__isnull=True, sos__isnull=False),
                name="alert_delivery_incident_xor_sos",
            ),
        ]

    def __str__(self):
        state = "delivered" if self.delivered_at else "dead" if self.dead_at else "pending"
        return f"{self.channel} → {self.target} ({state})"

    @property
    def subject_key(self) -> str:
        """"incident" or "sos": the key the alert's JSON body carries its payload under."""
        return "incident" if self.incident_id else "sos"

    @staticmethod
    def backoff(attempts: int, *, base_seconds: float, max_seconds: float) -> timedelta:
        """Wait before the next try after `attempts` failures: doubling from `base_seconds`, capped."""
        return timedelta(seconds=min(max_seconds, base_seconds * 2 ** max(attempts - 1, 0)))


class DeliveryAttempt(models.Model):
    """One try at sending an alert, with what came of it."""

    delivery = models.ForeignKey(AlertDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    succeeded = models.BooleanField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
