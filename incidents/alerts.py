"""Sending alert deliveries: email (with an incident's evidence attached, faces blurred) and webhooks signed
the Standard Webhooks way.

Runs only in a background process (`manage.py send_alerts`, `manage.py run_worker`), never in a request.
A `Sender` claims due rows one at a time, each under a short lease that it renews while it sends,
sends up to ALERT_SENDER_WORKERS of them at once (never two for one target, so one slow or dead
target delays only itself), then records each attempt. A failure is retried later with backoff until
ALERT_MAX_ATTEMPTS, so an outage delays alerts but loses none; a sender that dies gives its rows up
within one lease.
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import close_old_connections, connection
from django.utils import timezone

from common import cap
from incidents import hooks, services
from incidents.metrics import count_attempt
from incidents.models import AlertDelivery, IncidentImage

logger = logging.getLogger(__name__)

# Standard Webhooks (https://www.standardwebhooks.com/) headers.
WEBHOOK_ID_HEADER = "webhook-id"
WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp"
WEBHOOK_SIGNATURE_HEADER = "webhook-signature"
# The headers of the first release, still sent for one release so that receivers can move over.
SIGNATURE_HEADER = "X-NaariKavach-Signature"
EVENT_HEADER = "X-NaariKavach-Event"
DELIVERY_HEADER = "X-NaariKavach-Delivery"
MAX_EMAIL_ATTACHMENTS = services.MAX_IMAGES_PER_REPORT
SECRET_PREFIX = "whsec_"


@dataclass(frozen=True)
class SendResult:
    succeeded: bool
    status_code: int | None = None
    error: str = ""


# Webhooks ---------------------------------------------------------------------------------------


def webhook_body(delivery: AlertDelivery) -> bytes:
    """The same bytes on every retry: the receiver can verify the signature and de-duplicate by webhook-id."""
    if delivery.format == AlertDelivery.Format.CAP:
        return cap.alert_xml(delivery.subject_key, delivery.payload, event=delivery.event)
    body = {
        "type": delivery.event,
        "event": delivery.event,
        "delivery_id": delivery.pk,
        "created_at": delivery.created_at,
        delivery.subject_key: delivery.payload,
    }
    return json.dumps(body, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")).encode()


def webhook_signature(body: bytes, secret: str) -> str:
    """The first release's signature header: HMAC-SHA256 of the body alone."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signing_key(secret: str) -> bytes:
    """A Standard Webhooks secret ("whsec_" + base64) is its decoded bytes; any other text is its own UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret[len(SECRET_PREFIX):] + "==")
    return secret.encode()


def standard_signatures(*, message_id: str, timestamp: int, body: bytes, secrets: list[str]) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for each secret, space-separated (rotation)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(signing_key(secret), signed, hashlib.sha256).digest()).decode()
        for secret in secrets
    )


def webhook_headers(delivery: AlertDelivery, body: bytes, *, timestamp: int) -> dict[str, str]:
    secrets = [settings.ALERT_WEBHOOK_SECRET, *settings.ALERT_WEBHOOK_PREVIOUS_SECRETS]
    message_id = f"nk-alert-{delivery.pk}"
    is_cap = delivery.format == AlertDelivery.Format.CAP
    return {
        "Content-Type": "application/cap+xml" if is_cap else "application/json",
        "User-Agent": "NaariKavach-Alerts/2",
        WEBHOOK_ID_HEADER: message_id,
        WEBHOOK_TIMESTAMP_HEADER: str(timestamp),
        WEBHOOK_SIGNATURE_HEADER: standard_signatures(
            message_id=message_id, timestamp=timestamp, body=body, secrets=secrets
        ),
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.pk),
        SIGNATURE_HEADER: webhook_signature(body, settings.ALERT_WEBHOOK_SECRET),
    }


def _send_webhook(delivery: AlertDelivery) -> SendResult:
    body = webhook_body(delivery)
    headers = webhook_headers(delivery, body, timestamp=int(time.time()))
    try:
        response = httpx.post(delivery.target, content=body, headers=headers,
                              timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return SendResult(False, error=f"{type(exc).__name__}: {exc}")
    if response.is_success:
        return SendResult(True, status_code=response.status_code)
    error = f"HTTP {response.status_code}: {response.text[:300]}"
    return SendResult(False, status_code=response.status_code, error=error)


# Email ------------------------------------------------------------------------------------------


def _incident_email(delivery: AlertDelivery) -> tuple[str, list[str]]:
    incident = delivery.payload
    beacon = incident["beacon"]
    place = ", ".join(part for part in (beacon["name"], beacon.get("building"), beacon.get("floor")) if part)
    headline = {
        "incident_created": f"A {incident['kind']} detection has opened an incident ({incident['priority']}).",
        "incident_escalated": f"ESCALATED (level {incident.get('escalation_level')}): this {incident['kind']} "
                              f"incident is still {incident['status']}.",
    }.get(delivery.event, f"Incident {delivery.event.removeprefix('incident_')}: now {incident['status']}.")
    prefix = f"ESCALATED L{incident.get('escalation_level')} " if delivery.event == "incident_escalated" else ""
    subject = f"[NaariKavach] {prefix}{incident['priority']} {incident['kind']} alert at {beacon['name']}"
    lines = [
        headline,
        "",
        f"Where:    {place}",
        f"Beacon:   {beacon['beacon_id']}"
        + (f" ({beacon['latitude']}, {beacon['longitude']})" if beacon.get("latitude") is not None else ""),
        f"When:     {incident['first_signal_at']}",
        f"What:     {incident['description']}",
        f"Incident: {incident['incident_id']}",
    ]
    return subject, lines


def _sos_email(delivery: AlertDelivery) -> tuple[str, list[str]]:
    sos = delivery.payload
    kind = "emergency" if sos["sos_type"] == 0 else "alert"
    headline = {
        "sos_created": f"An SOS {kind} has been raised by {sos['name']}.",
        "sos_escalated": f"ESCALATED (level {sos.get('escalation_level')}): SOS {kind} from {sos['name']} "
                         f"is still {sos['status']}.",
        "sos_cancelled_under_duress": f"The SOS from {sos['name']} was cancelled with the DURESS code: "
                                      "treat it as a live emergency.",
    }.get(delivery.event, f"SOS {delivery.event.removeprefix('sos_')}: now {sos['status']}.")
    prefix = {"sos_escalated": f"ESCALATED L{sos.get('escalation_level')} ",
              "sos_cancelled_under_duress": "DURESS "}.get(delivery.event, "")
    subject = f"[NaariKavach] {prefix}SOS {kind} #{sos['sos_id']} from {sos['name']}"
    lines = [
        headline,
        "",
        f"Where:    {sos['latitude']}, {sos['longitude']}"
        + (f" (within {sos['accuracy_m']:g} m)" if sos.get("accuracy_m") is not None else ""),
        f"Raised:   {sos['created_at']}",
        f"Status:   {sos['status']}",
        f"SOS:      #{sos['sos_id']}",
    ]
    if sos.get("reason"):
        lines.append(f"Reason:   {sos['reason']}")
    return subject, lines


@dataclass
class _Evidence:
    """What an incident email carries: its notes on the evidence, and the images attached."""

    notes: list[str]
    attached: list[IncidentImage]
    complete: bool  # every image attached


def _attach_evidence(message: EmailMessage, delivery: AlertDelivery) -> _Evidence:
    """Attach the incident's images with faces blurred (privacy/: the derivative responders see, made now if
    need be), never the originals: a mailbox is outside the platform's access control.
    The notes say that faces are blurred and how to see an original, and name any image that could not be
    read or blurred (left out, since that must never hold the alert back)."""
    attached, failures = [], []
    images = IncidentImage.objects.filter(incident_id=delivery.incident_id).order_by("uploaded_at", "id")
    for number, image in enumerate(images[:MAX_EMAIL_ATTACHMENTS], start=1):
        try:
            blurred = hooks.alert_image_redacted.fire(image=image)
            if not blurred:
                raise LookupError("no face blurring is installed")
            message.attach(f"evidence-{number}-faces-blurred.png", blurred[0], "image/png")
            attached.append(image)
        except Exception as exc:
            logger.warning("Alert %s: evidence %s not attached: %s", delivery.pk, image.image.name, exc)
            failures.append(f"Evidence image {number} could not be attached ({type(exc).__name__}); "
                            "see it in the dashboard.")
    if not attached:
        return _Evidence(failures, [], False)
    notes = [
        "Faces in the attached evidence images are blurred; originals are never sent by email.",
        "A user with the 'view unredacted evidence' permission can see an original by giving a reason, which",
        "is recorded in the view audit: POST /api/privacy/evidence/images/<image id>/unredacted/ {\"reason\": ...}",
        f"(image ids, in order: {', '.join(str(image.pk) for image in attached)}).",
        *failures,
    ]
    return _Evidence(notes, attached, not failures)


def _record_emailed(delivery: AlertDelivery, images: list[IncidentImage]) -> None:
    # After the mail server took it: the mail is out, so a failure here is logged, never a reason to resend.
    for image in images:
        try:
            hooks.alert_image_emailed.fire(image=image, recipient=delivery.target)
        except Exception:
            logger.exception("Alert %s: the view audit could not record evidence %s emailed", delivery.pk, image.pk)


def _send_email(delivery: AlertDelivery) -> SendResult:
    is_incident = delivery.incident_id is not None
    subject, lines = (_incident_email if is_incident else _sos_email)(delivery)
    message = EmailMessage(subject=subject, to=[delivery.target])
    evidence = _attach_evidence(message, delivery) if is_incident else _Evidence([], [], False)
    closing = "Acknowledge and act on it in the NaariKavach dashboard."
    if evidence.complete:
        closing = "Evidence images are attached. " + closing
    message.body = "\n".join([*lines, "", *evidence.notes, closing])
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP and network errors alike: all mean "try again later"
        return SendResult(False, error=f"{type(exc).__name__}: {exc}")
    _record_emailed(delivery, evidence.attached)
    return SendResult(True)


SENDERS = {AlertDelivery.Channel.EMAIL: _send_email, AlertDelivery.Channel.WEBHOOK: _send_webhook}


def send_one(delivery: AlertDelivery) -> SendResult:
    """Send one claimed delivery and record the attempt."""
    started_at, started = timezone.now(), time.monotonic()
    try:
        result = SENDERS[delivery.channel](delivery)
    except Exception as exc:  # a bug in one alert must not stop the sender
        logger.exception("Alert %s could not be sent", delivery.pk)
        result = SendResult(False, error=f"{type(exc).__name__}: {exc}")
    recorded = services.alert_delivery_record_attempt(
        delivery_id=delivery.pk, succeeded=result.succeeded, started_at=started_at,
        duration_ms=int((time.monotonic() - started) * 1000), status_code=result.status_code, error=result.error,
    )
    count_attempt(channel=delivery.channel, succeeded=result.succeeded, dead=recorded.dead_at is not None)
    if result.succeeded:
        logger.info("Alert %s delivered by %s to %s", delivery.pk, delivery.channel, delivery.target)
    else:
        logger.warning("Alert %s to %s failed (attempt %s): %s", delivery.pk, delivery.target,
                       delivery.attempts + 1, result.error)
    return result


# The sender -------------------------------------------------------------------------------------


class Sender:
    """Claims and sends due deliveries, several at once but one per target at a time."""

    def __init__(self, *, workers: int | None = None, lease_seconds: float | None = None):
        self.workers = workers or settings.ALERT_SENDER_WORKERS
        self.lease = timedelta(seconds=lease_seconds or settings.ALERT_CLAIM_LEASE_SECONDS)
        self.name = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="alert-sender")
        self._in_flight: dict[int, str] = {}  # delivery id -> target
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._renewed_at = time.monotonic()

    def _finish(self, delivery_id: int) -> None:
        with self._lock:
            self._in_flight.pop(delivery_id, None)
        self.wake()

    def _task(self, delivery: AlertDelivery) -> None:
        try:
            send_one(delivery)
        finally:
            connection.close()  # this worker thread's own connection
            self._finish(delivery.pk)

    def fill(self, *, due_by: datetime | None = None) -> int:
        """Claim due rows for the free workers and start sending them; returns how many were started."""
        with self._lock:
            free = self.workers - len(self._in_flight)
            busy = frozenset(self._in_flight.values())
        if free <= 0:
            return 0
        claimed = services.alert_deliveries_claim(
            limit=free, lease=self.lease, sender=self.name, due_by=due_by, exclude_targets=busy
        )
        with self._lock:
            for delivery in claimed:
                self._in_flight[delivery.pk] = delivery.target
        for delivery in claimed:
            self._pool.submit(self._task, delivery)
        return len(claimed)

    def renew(self, *, force: bool = False) -> None:
        """Keep the claims of rows still being sent (a slow SMTP server may take longer than a lease)."""
        if not force and time.monotonic() - self._renewed_at < self.lease.total_seconds() / 3:
            return
        self._renewed_at = time.monotonic()
        with self._lock:
            ids = list(self._in_flight)
        services.alert_deliveries_renew(sender=self.name, ids=ids, lease=self.lease)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def wake(self) -> None:
        """End a `wait` now (a send finished, or the process is stopping)."""
        self._changed.set()

    def wait(self, timeout: float) -> None:
        """Until a send finishes, `wake()` is called or `timeout` passes."""
        self._changed.wait(timeout)
        self._changed.clear()

    def drain(self, *, due_by: datetime | None = None) -> int:
        """Send everything due by `due_by` (default: now) and wait for it; a row that fails now is due
        again later, not in this call."""
        due_by, started = due_by or timezone.now(), 0
        while True:
            started += self.fill(due_by=due_by)
            if not self.in_flight:
                return started
            self.wait(self.lease.total_seconds() / 3)
            self.renew()

    def step(self, interval: float) -> None:
        """One turn of the long-running loop: start what is due, keep claims, wait a little."""
        close_old_connections()
        started = self.fill()
        self.renew()
        if not started:
            self.wait(min(interval, self.lease.total_seconds() / 3))

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def send_due_alerts(*, limit: int = 20, due_by: datetime | None = None) -> int:
    """Send what is due by `due_by` (default: now) with one short-lived sender; returns how many were tried."""
    sender = Sender(workers=limit)
    try:
        return sender.drain(due_by=due_by)
    finally:
        sender.close()
