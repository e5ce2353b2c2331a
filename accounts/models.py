"""Users with a role (citizen, officer, dispatcher, admin) and police units with their last position."""

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone


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
        return self.is_active and (self.role in {self.Role.OFFICER, self.Role.DISPATCHER, self.Role.ADMIN} or self.is_superuser)

    @property
    def is_platform_admin(self) -> bool:
        return self.is_superuser or self.role == self.Role.ADMIN

    def display_name(self) -> str:
        return self.get_full_name() or self.username
