"""A citizen's trusted contacts, the alerts they are sent, their read-only live links, and walk-me-home check-ins."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.tokens import hash_secret

MAX_CONTACTS = 5
LIVE_LINK_AFTER_CLOSE = timedelta(hours=1)


class TrustedContact(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trusted_contacts")
    name = models.CharField(max_length=120)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.name} (trusted by {self.owner_id})"


class LiveLink(models.Model):
    """Read-only access to one SOS's status and trail, for one contact; valid until the SOS closes plus an hour."""

    sos_request = models.ForeignKey("sos.SOS", on_delete=models.CASCADE, related_name="live_links")
    contact = models.ForeignKey(TrustedContact, null=True, blank=True, on_delete=models.SET_NULL)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def is_valid(self, now=None) -> bool:
        now = now or timezone.now()
        closed_at = self.sos_request.closed_at
        return self.revoked_at is None and (closed_at is None or now < closed_at + LIVE_LINK_AFTER_CLOSE)

    def token_matches(self, token: str) -> bool:
        return hash_secret(token) == self.token_hash


class ContactAlert(models.Model):
    """One message to one contact: an outbox row, sent by `manage.py send_contact_alerts` and retried until delivered."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook (SMS/WhatsApp gateway)"

    sos_request = models.ForeignKey("sos.SOS", on_delete=models.CASCADE, related_name="contact_alerts")
    contact = models.ForeignKey(TrustedContact, null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    target = models.CharField(max_length=500)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    payload = models.JSONField(default=dict)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["delivered_at", "next_attempt_at"])]


class CheckIn(models.Model):
    """A "walk me home" timer held by the server: unless she checks in with her PIN in time, an SOS is raised."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkins")
    destination = models.CharField(max_length=200, blank=True)
    pin_hash = models.CharField(max_length=128, editable=False)
    started_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(db_index=True)
    grace = models.DurationField(default=timedelta(minutes=2))
    completed_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    sos_request = models.OneToOneField("sos.SOS", null=True, blank=True, on_delete=models.SET_NULL, related_name="checkin")

    class Meta:
        ordering = ["-started_at"]

    @property
    def is_running(self) -> bool:
        return self.completed_at is None and self.expired_at is None

    def expires_at(self):
        return self.due_at + self.grace


class CheckInPoint(models.Model):
    """A position shared during the walk: visible to no one unless the check-in expires into an SOS."""

    checkin = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="points")
    latitude = models.FloatField()
    longitude = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
