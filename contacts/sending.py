"""Sending contact alerts: email, and a signed webhook for an SMS/WhatsApp gateway; retried until delivered.

Runs only in `manage.py send_contact_alerts`, never in a request. A due row is claimed with a conditional
update first (so two senders never send it twice), sent outside any transaction, then recorded.
"""

import json
import logging
from datetime import timedelta

import httpx
from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone

from contacts.models import ContactAlert
from incidents.alerts import SIGNATURE_HEADER, webhook_signature
from incidents.models import AlertDelivery

logger = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(minutes=5)


def _claim(alert_id: int, now) -> bool:
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    return bool(ContactAlert.objects.filter(free, pk=alert_id, delivered_at__isnull=True)
                .update(claimed_until=now + CLAIM_LEASE))


def _send(alert: ContactAlert) -> str:
    """Send one alert; '' when delivered, else what went wrong."""
    try:
        if alert.channel == ContactAlert.Channel.EMAIL:
            EmailMessage(alert.subject, alert.body, settings.DEFAULT_FROM_EMAIL, [alert.target]).send()
            return ""
        body = json.dumps({"event": "sos_contact_alert", "alert_id": alert.pk, **alert.payload},
                          sort_keys=True, separators=(",", ":")).encode()
        response = httpx.post(alert.target, content=body, timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS, headers={
            "Content-Type": "application/json", SIGNATURE_HEADER: webhook_signature(body, settings.ALERT_WEBHOOK_SECRET)})
        return "" if response.is_success else f"HTTP {response.status_code}"
    except Exception as exc:  # noqa: BLE001 - any failure of the outside world is retried, never fatal
        return f"{type(exc).__name__}: {exc}"


def contact_alerts_send_due(*, now=None, limit: int = 50) -> int:
    """Send the alerts that are due; returns how many were delivered."""
    now = now or timezone.now()
    due = ContactAlert.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=now).values_list("pk", flat=True)
    delivered = 0
    for alert_id in list(due[:limit]):
        if not _claim(alert_id, now):
            continue
        alert = ContactAlert.objects.get(pk=alert_id)
        error = _send(alert)
        alert.attempts += 1
        alert.claimed_until = None
        if error:
            alert.last_error = error
            alert.next_attempt_at = timezone.now() + AlertDelivery.backoff(
                alert.attempts, base_seconds=settings.ALERT_RETRY_BASE_SECONDS, max_seconds=settings.ALERT_RETRY_MAX_SECONDS)
            logger.warning("Contact alert %s failed (attempt %s): %s", alert.pk, alert.attempts, error)
        else:
            alert.delivered_at = timezone.now()
            delivered += 1
        alert.save(update_fields=["attempts", "claimed_until", "last_error", "next_attempt_at", "delivered_at"])
    return delivered
