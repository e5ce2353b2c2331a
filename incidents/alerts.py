"""Sending alert deliveries: email with the evidence attached, and webhooks signed with HMAC-SHA256.

Runs only in `manage.py send_alerts`, never in a request. Each due row is claimed first, then sent
outside any transaction, then its attempt is recorded; a failure is retried later, so an outage of
the mail server or a webhook receiver delays alerts but loses none.
"""

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from incidents import services
from incidents.models import AlertDelivery, IncidentImage

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-NaariKavach-Signature"
EVENT_HEADER = "X-NaariKavach-Event"
DELIVERY_HEADER = "X-NaariKavach-Delivery"
MAX_EMAIL_ATTACHMENTS = services.MAX_IMAGES_PER_REPORT
# Longer than any one send can take (webhook and SMTP timeouts are far shorter);
# the rows of a sender that died are taken over when it runs out.
CLAIM_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class SendResult:
    succeeded: bool
    status_code: int | None = None
    error: str = ""


def webhook_body(delivery: AlertDelivery) -> bytes:
    """The same bytes on every retry: the receiver can verify the signature and de-duplicate by delivery id."""
    body = {
        "event": delivery.event,
        "delivery_id": delivery.pk,
        "created_at": delivery.created_at,
        "incident": delivery.payload,
    }
    return json.dumps(body, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")).encode()


def webhook_signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _send_webhook(delivery: AlertDelivery) -> SendResult:
    body = webhook_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "NaariKavach-Alerts/1",
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.pk),
        SIGNATURE_HEADER: webhook_signature(body, settings.ALERT_WEBHOOK_SECRET),
    }
    try:
        response = httpx.post(delivery.target, content=body, headers=headers,
                              timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return SendResult(False, error=f"{type(exc).__name__}: {exc}")
    if response.is_success:
        return SendResult(True, status_code=response.status_code)
    error = f"HTTP {response.status_code}: {response.text[:300]}"
    return SendResult(False, status_code=response.status_code, error=error)


def _email_text(delivery: AlertDelivery) -> tuple[str, str]:
    incident = delivery.payload
    beacon = incident["beacon"]
    place = ", ".join(part for part in (beacon["name"], beacon.get("building"), beacon.get("floor")) if part)
    subject = f"[NaariKavach] {incident['priority']} {incident['kind']} alert at {beacon['name']}"
    lines = [
        f"A {incident['kind']} detection has opened an incident ({incident['priority']}).",
        "",
        f"Where:    {place}",
        f"Beacon:   {beacon['beacon_id']}"
        + (f" ({beacon['latitude']}, {beacon['longitude']})" if beacon.get("latitude") is not None else ""),
        f"When:     {incident['first_signal_at']}",
        f"What:     {incident['description']}",
        f"Incident: {incident['incident_id']}",
        "",
        "Evidence images are attached. Acknowledge and assign the incident in the NaariKavach dashboard.",
    ]
    return subject, "\n".join(lines)


def _send_email(delivery: AlertDelivery) -> SendResult:
    subject, body = _email_text(delivery)
    message = EmailMessage(subject=subject, body=body, to=[delivery.target])
    images = IncidentImage.objects.filter(incident_id=delivery.incident_id).order_by("uploaded_at", "id")
    try:
        for number, image in enumerate(images[:MAX_EMAIL_ATTACHMENTS], start=1):
            with image.image.storage.open(image.image.name, "rb") as handle:
                message.attach(f"evidence-{number}.{image.extension}", handle.read(), image.content_type)
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP, network and storage errors alike: all mean "try again later"
        return SendResult(False, error=f"{type(exc).__name__}: {exc}")
    return SendResult(True)


SENDERS = {AlertDelivery.Channel.EMAIL: _send_email, AlertDelivery.Channel.WEBHOOK: _send_webhook}


def send_due_alerts(*, limit: int = 20, due_by: datetime | None = None) -> int:
    """Claim and send deliveries due by `due_by` (default: now); returns how many were tried."""
    deliveries = services.alert_deliveries_claim(limit=limit, lease=CLAIM_LEASE, now=due_by)
    for delivery in deliveries:
        started_at, started = timezone.now(), time.monotonic()
        result = SENDERS[delivery.channel](delivery)
        services.alert_delivery_record_attempt(
            delivery_id=delivery.pk, succeeded=result.succeeded, started_at=started_at,
            duration_ms=int((time.monotonic() - started) * 1000), status_code=result.status_code, error=result.error,
        )
        if result.succeeded:
            logger.info("Alert %s delivered by %s to %s", delivery.pk, delivery.channel, delivery.target)
        else:
            logger.warning("Alert %s to %s failed (attempt %s): %s", delivery.pk, delivery.target,
                           delivery.attempts + 1, result.error)
    return len(deliveries)
