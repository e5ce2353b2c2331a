"""The outbox: every event for clients, written in the same transaction as the change it reports."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    """One server→client event. Its primary key is the `event_id` clients resume from."""

    event = models.CharField(max_length=64)
    rooms = models.JSONField(encoder=DjangoJSONEncoder, help_text="Socket.IO rooms that receive the event.")
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"#{self.pk} {self.event} → {', '.join(self.rooms)}"

    def message(self) -> dict:
        """The payload as clients receive it: with its `event_id`."""
        return {**self.payload, "event_id": self.pk}
