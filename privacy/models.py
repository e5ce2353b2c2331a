"""The view audit, blurred derivatives of evidence, legal holds, retention runs and citizens' data requests."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.audit import AuditEntry
from incidents.storage import evidence_storage


class ViewAuditEntry(AuditEntry):
    """One look at guarded data: an evidence image, an SOS trail, a bundle or a citizen's export.

    Written by privacy.services only, never edited; `action` says what was seen, the subject whose it was.
    """

    class Action(models.TextChoices):
        EVIDENCE_VIEW = "evidence_view", "Evidence image (faces blurred)"
        EVIDENCE_UNREDACTED = "evidence_unredacted", "Evidence image, unredacted"
        EVIDENCE_AUDIO = "evidence_audio", "Evidence sound clip"
        SOS_TRAIL_READ = "sos_trail_read", "SOS trail read"
        BUNDLE_EXPORT = "bundle_export", "Evidence bundle exported"
        CITIZEN_EXPORT = "citizen_export", "Citizen's own data exported"
        EVIDENCE_EMAILED = "evidence_emailed", "Evidence image emailed (faces blurred)"

    class Subject(models.TextChoices):
        SOS = "sos", "SOS"
        INCIDENT = "incident", "Incident"
        AI_EVENT = "ai_event", "AI report"
        CITIZEN = "citizen", "Citizen"
        CAMERA = "camera", "Camera"

    class Delivery(models.TextChoices):
        FILE = "file", "File streamed"
        SIGNED_URL = "signed_url", "Signed URL handed out"
        JSON = "json", "JSON"
        ZIP = "zip", "Zip bundle"
        EMAIL = "email", "Attached to an alert email"

    # Plain values, not foreign keys: the record of a look outlives what was looked at (retention).
    subject_kind = models.CharField(max_length=16, choices=Subject.choices)
    subject_id = models.CharField(max_length=64)
    image_id = models.BigIntegerField(null=True, blank=True)
    delivery = models.CharField(max_length=16, choices=Delivery.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why, for unredacted views and exports.")

    extra_hashed_fields = ("subject_kind", "subject_id", "image_id", "delivery", "ip_address", "reason")

    class Meta(AuditEntry.Meta):
        verbose_name = "view audit entry"
        verbose_name_plural = "view audit"
        indexes = [models.Index(fields=["subject_kind", "subject_id", "created_at"])]
        permissions = [
            ("view_unredacted_evidence", "Can view unredacted evidence, giving a reason"),
        ]

    def chain_key(self) -> str:
        return f"{self._meta.label_lower}:{self.subject_kind}:{self.subject_id}"

    def __str__(self):
        return f"{self.actor_label} {self.action} {self.subject_kind}:{self.subject_id}"


class RedactedImage(models.Model):
    """The cached derivative of one evidence image with faces blurred, as responders are shown it."""

    image = models.OneToOneField("incidents.IncidentImage", on_delete=models.CASCADE, related_name="redacted")
    file = models.FileField(storage=evidence_storage, max_length=255)
    faces_found = models.PositiveIntegerField()
    detector = models.CharField(max_length=64, help_text="The detector version that made it; others are remade.")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.file.name


class LegalHold(models.Model):
    """An SOS or incident kept whatever the retention policy says, with everything attached, until released."""

    class Subject(models.TextChoices):
        SOS = "sos", "SOS"
        INCIDENT = "incident", "Incident"

    subject_kind = models.CharField(max_length=16, choices=Subject.choices)
    subject_id = models.CharField(max_length=64)
    reason = models.TextField()
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    placed_by_label = models.CharField(max_length=150)
    placed_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by_label = models.CharField(max_length=150, blank=True)
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [models.Index(fields=["subject_kind", "subject_id", "released_at"])]

    def __str__(self):
        return f"Hold on {self.subject_kind}:{self.subject_id} ({'released' if self.released_at else 'active'})"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class SOSMinimisation(models.Model):
    """When a closed anonymous SOS was reduced to what the record needs, and by how much."""

    sos = models.OneToOneField("sos.SOS", on_delete=models.CASCADE, related_name="minimisation")
    minimised_at = models.DateTimeField(default=timezone.now)
    points_before = models.PositiveIntegerField()
    points_after = models.PositiveIntegerField()


class RetentionRun(models.Model):
    """One run of the purge: when, and how many of each kind it removed (counts, never contents)."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"Retention run {self.started_at:%Y-%m-%d %H:%M}"


class CitizenDeletion(models.Model):
    """A citizen's deletion request, carried out: counts of what went and what was kept, and why; no identity."""

    requested_at = models.DateTimeField(default=timezone.now)
    deleted = models.JSONField(default=dict)
    kept = models.JSONField(default=list)

    class Meta:
        ordering = ["-requested_at", "-id"]
