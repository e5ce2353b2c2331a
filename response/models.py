"""Escalation policies (ladders of timed steps per kind of alert) and the escalations that fired."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class EscalationPolicy(models.Model):
    """The ladder for one kind of alert: an SOS of one type, or an incident of one kind (and priority)."""

    class Source(models.TextChoices):
        SOS = "sos", "Citizen SOS"
        INCIDENT = "incident", "Camera incident"

    # SOS kinds are the SOS types; incident kinds are the detection kinds.
    KINDS = {Source.SOS: ("emergency", "alert"), Source.INCIDENT: ("violence", "scream")}

    name = models.CharField(max_length=100)
    source = models.CharField(max_length=16, choices=Source.choices)
    kind = models.CharField(max_length=16, help_text="SOS: emergency or alert. Incident: violence or scream.")
    priority = models.CharField(max_length=16, blank=True,
                                help_text="Incidents only: Low, Medium, High or Critical; empty for any priority.")
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "escalation policies"
        ordering = ["source", "kind", "priority"]
        constraints = [models.UniqueConstraint(fields=["source", "kind", "priority"], name="one_policy_per_alert_kind")]

    def __str__(self):
        return self.name

    def clean(self):
        if self.kind not in self.KINDS.get(self.source, ()):
            raise ValidationError({"kind": f"Use one of {', '.join(self.KINDS.get(self.source, ()))}."})
        if self.priority and self.source != self.Source.INCIDENT:
            raise ValidationError({"priority": "Only incident policies have a priority."})


class EscalationStep(models.Model):
    """After `after_seconds` in `in_status`, do the chosen actions; the step's level is shown on dashboards."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    level = models.PositiveSmallIntegerField(help_text="1, 2, 3 …: how loud the dashboards show it.")
    in_status = models.CharField(
        max_length=16, help_text="The status the alert must still be in, e.g. active (SOS) or CREATED (incident)."
    )
    after_seconds = models.PositiveIntegerField(help_text="Seconds since the alert entered that status.")
    realert_dashboards = models.BooleanField(default=True, help_text="Re-sound the alarm on every dashboard.")
    notify_supervisors = models.BooleanField(default=False,
                                             help_text="Email and webhook to the supervisors' targets.")
    notify_dispatchers = models.BooleanField(default=False, help_text="Email every active dispatcher.")
    webhook_url = models.URLField(blank=True, help_text="Also call this webhook (a CAD or paging system).")
    raise_priority = models.BooleanField(default=False, help_text="Incidents only: one priority up.")
    label = models.CharField(max_length=100, blank=True, help_text="Shown with the level, e.g. 'Unacknowledged'.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["policy", "after_seconds", "level", "id"]
        constraints = [models.UniqueConstraint(fields=["policy", "level"], name="one_step_per_policy_level")]

    def __str__(self):
        return f"{self.policy}: level {self.level} after {self.after_seconds}s in {self.in_status}"

    @property
    def key(self) -> str:
        """What makes a firing of this step unique per alert."""
        return f"step:{self.pk}"

    def actions(self) -> list[str]:
        chosen = [name for name in ("realert_dashboards", "notify_supervisors", "notify_dispatchers", "raise_priority")
                  if getattr(self, name)]
        return chosen + (["call_webhook"] if self.webhook_url else [])


class Escalation(models.Model):
    """One step fired for one alert (or a raise from outside, such as a duress cancel).

    The unique (alert, key) constraints make every step fire once per alert, whatever the number of
    schedulers and however often one crashes: it is written in the same transaction as its audit
    entry, its realtime event and its alert rows, so it and they exist together or not at all.
    """

    sos = models.ForeignKey("sos.SOS", null=True, blank=True, on_delete=models.CASCADE, related_name="escalations")
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="escalations")
    step = models.ForeignKey(EscalationStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    key = models.CharField(max_length=64, help_text="step:<id> for a step; raise:<reason> for a raise.")
    level = models.PositiveSmallIntegerField()
    in_status = models.CharField(max_length=16)
    reason = models.CharField(max_length=64, blank=True)
    actions = models.JSONField(default=list)
    fired_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["fired_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sos", "key"], condition=models.Q(sos__isnull=False),
                                    name="escalation_once_per_sos"),
            models.UniqueConstraint(fields=["incident", "key"], condition=models.Q(incident__isnull=False),
                                    name="escalation_once_per_incident"),
            models.CheckConstraint(
                condition=models.Q(sos__isnull=False, incident__isnull=True)
                | models.Q(sos__isnull=True, incident__isnull=False),
                name="escalation_sos_xor_incident",
            ),
        ]

    def __str__(self):
        subject = f"SOS #{self.sos_id}" if self.sos_id else f"incident {self.incident_id}"
        return f"{subject} level {self.level} ({self.reason or self.key})"
