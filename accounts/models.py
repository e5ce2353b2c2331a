"""Users with a role (citizen, officer, dispatcher, admin) and police units with their last position."""

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from common.actors import is_responder


class Unit(models.Model):
    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        DISPATCHED = "dispatched", "Dispatched"
        EN_ROUTE = "en_route", "En route"
        ON_SCENE = "on_scene", "On scene"
        OFF_DUTY = "off_duty", "Off duty"

    # The lifecycle: available → dispatched → en route → on scene → available, and off duty from and to
    # available. Officers follow it; a dispatcher may override it (any status to any other).
    TRANSITIONS = {
        Status.AVAILABLE: {Status.DISPATCHED, Status.OFF_DUTY},
        Status.DISPATCHED: {Status.EN_ROUTE, Status.ON_SCENE, Status.AVAILABLE},
        Status.EN_ROUTE: {Status.ON_SCENE, Status.AVAILABLE},
        Status.ON_SCENE: {Status.AVAILABLE},
        Status.OFF_DUTY: {Status.AVAILABLE},
    }
    BUSY_STATUSES = (Status.DISPATCHED, Status.EN_ROUTE, Status.ON_SCENE)

    unit_number = models.CharField(
        max_length=32,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", "Letters, digits, '-' and '_' only.")],
    )
    name = models.CharField(max_length=100, blank=True)
    # Written only by accounts.services.unit_status_change, which keeps the history in UnitStatusChange.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AVAILABLE, editable=False)
    last_latitude = models.FloatField(null=True, blank=True)
    last_longitude = models.FloatField(null=True, blank=True)
    last_accuracy_m = models.FloatField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Created by a dispatcher's assignment to a unit number nobody had registered (see sos_assign).
    is_adhoc = models.BooleanField("ad hoc", default=False, help_text="Created by an assignment; complete or merge it.")

    class Meta:
        ordering = ["unit_number"]

    def __str__(self):
        return self.unit_number

    @property
    def has_position(self) -> bool:
        return self.last_latitude is not None and self.last_longitude is not None

    def may_become(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, set())


class UnitStatusChange(models.Model):
    """One change of a unit's status: who made it, from what to what, and why. Written by the service only."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=150)
    reason = models.CharField(max_length=64, blank=True, help_text="assigned, closed, officer, override …")
    overridden = models.BooleanField(default=False, help_text="Outside the lifecycle, by a dispatcher.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]


class UnitLocation(models.Model):
    """One reported position of a unit: the trail behind `Unit.last_*`."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="locations")
    latitude = models.FloatField()
    longitude = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)
    recorded_at = models.DateTimeField()
    reported_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["unit", "-recorded_at"])]


class User(AbstractUser):
    class Role(models.TextChoices):
        CITIZEN = "citizen", "Citizen"
        OFFICER = "officer", "Officer"
        DISPATCHER = "dispatcher", "Dispatcher"
        ADMIN = "admin", "Admin"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CITIZEN)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="officers")
    phone = models.CharField(max_length=32, blank=True)

    @property
    def is_responder(self) -> bool:
        """Officers, dispatchers and admins act on alerts; citizens and anonymous callers do not."""
        return is_responder(self)


class AuthToken(models.Model):
    """One sign-in: only the SHA-256 of its key is stored, and it stops working at `expires_at`.

    Each sign-in gets its own token, so signing out on one device leaves the others signed in.
    """

    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key; the key is never stored.")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"token of {self.user} until {self.expires_at:%Y-%m-%d %H:%M}"

    def is_expired(self, now) -> bool:
        return self.expires_at <= now
