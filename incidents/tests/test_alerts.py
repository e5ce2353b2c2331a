"""Alerts: queued in the transaction that creates the incident, sent later by send_alerts to real servers."""

import hashlib
import hmac
import io
import json
import threading
from datetime import timedelta

import cv2
import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from incidents import alerts, services
from incidents.models import AlertDelivery, IncidentImage
from incidents.tests.alert_servers import SMTPInbox, WebhookReceiver, free_port
from incidents.tests.factories import image_bytes, report, upload
from privacy.models import RedactedImage, ViewAuditEntry
from privacy.tests.helpers import scene_with_face

# The sender sends from worker threads with their own database connections: they must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

VIOLENCE = reverse("ai-violence-detected")
SECRET = "test-webhook-secret"


@pytest.fixture
def smtp(settings):
    inbox = SMTPInbox().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", inbox.port, 5
    yield inbox
    inbox.stop()


@pytest.fixture
def webhook(request, settings):
    receiver = WebhookReceiver(**getattr(request, "param", {})).start()
    settings.ALERT_WEBHOOK_SECRET = SECRET
    settings.ALERT_WEBHOOK_TIMEOUT_SECONDS = 5
    yield receiver
    receiver.stop()


@pytest.fixture
def recipients(settings, smtp, webhook):
    settings.ALERT_EMAIL_RECIPIENTS = ["control-room@example.org", "warden@example.org"]
    settings.ALERT_WEBHOOK_URLS = [webhook.url + "/hooks/naarikavach"]
    settings.ALERT_RETRY_BASE_SECONDS = 30
    settings.ALERT_RETRY_MAX_SECONDS = 3600


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def send_once():
    call_command("send_alerts", "--once", stdout=io.StringIO())


def make_due():
    """Let the backoff pass, as the clock would."""
    AlertDelivery.objects.filter(delivered_at__isnull=True).update(next_attempt_at=timezone.now())


def post_report(client, beacon, frames=()):
    data = {**report(beacon.beacon_id), "images": [upload(f"f{n}.jpg", frame) for n, frame in enumerate(frames)]}
    response = client.post(VIOLENCE, data, format="multipart")
    assert response.status_code in (200, 201), response.json()
    return response.json()


def test_a_new_incident_queues_one_alert_per_target_and_sends_nothing_in_the_request(
    recipients, smtp, webhook, device_client, beacon
):
    body = post_report(device_client, beacon)

    rows = AlertDelivery.objects.order_by("id")
    assert [(row.channel, row.target) for row in rows] == [
        ("email", "control-room@example.org"), ("email", "warden@example.org"),
        ("webhook", webhook.url + "/hooks/naarikavach"),
    ]
    assert all(str(row.incident_id) == body["incident_id"] and row.delivered_at is None for row in rows)
    assert smtp.messages == [] and webhook.requests == []


def test_a_joined_report_raises_no_second_alert(recipients, device_client, beacon):
    post_report(device_client, beacon)
    post_report(device_client, beacon)

    assert AlertDelivery.objects.count() == 3


def test_the_sender_emails_the_evidence_with_faces_blurred_through_a_real_smtp_server(
    recipients, smtp, device_client, beacon
):
    with_face, (x, y, size) = scene_with_face()
    frames = [with_face, image_bytes("PNG", color=(40, 50, 60))]
    post_report(device_client, beacon, frames)

    send_once()

    assert sorted(rcpt for rcpts in smtp.recipients for rcpt in rcpts) == ["control-room@example.org",
                                                                           "warden@example.org"]
    message = smtp.messages[0]
    assert message["Subject"] == "[NaariKavach] Critical violence alert at Library Entrance"
    attachments = [part for part in message.walk() if part.get_content_disposition() == "attachment"]
    assert [(part.get_filename(), part.get_content_type()) for part in attachments] == [
        ("evidence-1-faces-blurred.png", "image/png"), ("evidence-2-faces-blurred.png", "image/png"),
    ]
    sent = [part.get_payload(decode=True) for part in attachments]
    assert all(attachment != frame for attachment, frame in zip(sent, frames))
    # The face is blurred in what was mailed; the image is the same scene, at the same size.
    original, mailed = decode(with_face), decode(sent[0])
    face = (slice(y + size // 4, y + 3 * size // 4), slice(x + size // 4, x + 3 * size // 4))
    assert mailed.shape == original.shape
    assert original[face].var() > 1000
    assert mailed[face].var() < 150
    body = next(part for part in message.walk() if part.get_content_type() == "text/plain").get_payload(decode=True)
    image_ids = list(IncidentImage.objects.order_by("uploaded_at", "id").values_list("pk", flat=True))
    assert b"Faces in the attached evidence images are blurred" in body
    assert b"/api/privacy/evidence/images/<image id>/unredacted/" in body
    assert f"(image ids, in order: {image_ids[0]}, {image_ids[1]})".encode() in body
    assert AlertDelivery.objects.filter(channel="email", delivered_at__isnull=False).count() == 2
    # Each image mailed to each recipient is in the view audit, like a look at it.
    emailed = ViewAuditEntry.objects.filter(action="evidence_emailed").order_by("reason", "image_id")
    assert [(e.actor_label, e.delivery, e.image_id, e.reason) for e in emailed] == [
        ("system:alert-email", "email", image_id, f"Alert email to {recipient}")
        for recipient in ("control-room@example.org", "warden@example.org") for image_id in image_ids
    ]
    call_command("verify_audit_chain", stdout=io.StringIO())


def test_an_alert_email_makes_the_blurred_derivative_once_and_responders_reuse_it(recipients, smtp, device_client,
                                                                                   beacon):
    with_face, _ = scene_with_face()
    post_report(device_client, beacon, [with_face])

    send_once()

    [derivative] = RedactedImage.objects.all()
    mailed = {part.get_payload(decode=True) for message in smtp.messages for part in message.walk()
              if part.get_content_disposition() == "attachment"}
    assert derivative.faces_found >= 1
    assert mailed == {derivative.file.storage.open(derivative.file.name).read()}


def test_webhooks_carry_an_hmac_sha256_signature_over_the_body(recipients, webhook, device_client, beacon):
    body = post_report(device_client, beacon, [image_bytes()])

    send_once()

    [request] = webhook.requests
    headers = {key.lower(): value for key, value in request["headers"].items()}
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-naarikavach-signature"], expected)
    assert headers["x-naarikavach-event"] == "incident_created"
    payload = json.loads(request["body"])
    assert payload["event"] == "incident_created"
    assert payload["incident"]["incident_id"] == body["incident_id"]
    assert payload["incident"]["beacon"]["beacon_id"] == beacon.beacon_id
    # Evidence URLs (signed ones expire) are never sent out; receivers fetch the incident with credentials.
    assert b"download" not in request["body"] and b"X-Goog" not in request["body"]


@pytest.mark.parametrize("webhook", [{"failures": 2}], indirect=True)
def test_a_failing_webhook_is_retried_with_growing_backoff_until_it_accepts(
    recipients, settings, webhook, device_client, beacon
):
    settings.ALERT_EMAIL_RECIPIENTS = []
    post_report(device_client, beacon)
    delivery = AlertDelivery.objects.get()

    send_once()
    delivery.refresh_from_db()
    first_wait = delivery.next_attempt_at - timezone.now()
    send_once()  # not due yet: nothing is tried
    assert len(webhook.requests) == 1
    make_due()
    send_once()
    delivery.refresh_from_db()
    second_wait = delivery.next_attempt_at - timezone.now()
    make_due()
    send_once()

    delivery.refresh_from_db()
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)
    assert timedelta(seconds=55) < second_wait <= timedelta(seconds=60)
    assert delivery.delivered_at is not None and delivery.attempts == 3 and delivery.last_error == ""
    assert list(delivery.attempt_log.values_list("number", "succeeded", "status_code")) == [
        (1, False, 500), (2, False, 500), (3, True, 204),
    ]
    assert "HTTP 500" in delivery.attempt_log.first().error
    # The receiver gets the same bytes and signature on every try, so it can de-duplicate.
    assert len({(r["body"], r["headers"]["X-NaariKavach-Signature"]) for r in webhook.requests}) == 1


def test_a_mail_server_outage_delays_the_alert_but_loses_nothing(recipients, settings, smtp, device_client, beacon):
    settings.ALERT_WEBHOOK_URLS = []
    settings.ALERT_EMAIL_RECIPIENTS = ["control-room@example.org"]
    post_report(device_client, beacon, [image_bytes()])
    settings.EMAIL_PORT = free_port()  # nothing listens there: the mail server is down

    send_once()
    delivery = AlertDelivery.objects.get()
    assert (delivery.delivered_at, delivery.attempts) == (None, 1)
    assert "Connection" in delivery.last_error
    assert not ViewAuditEntry.objects.filter(action="evidence_emailed").exists()  # nothing went out

    settings.EMAIL_PORT = smtp.port
    make_due()
    send_once()

    delivery.refresh_from_db()
    assert delivery.delivered_at is not None
    assert len(smtp.messages) == 1
    assert ViewAuditEntry.objects.filter(action="evidence_emailed").count() == 1


def test_a_claimed_row_is_not_claimed_again_until_its_lease_runs_out(recipients, device_client, beacon):
    post_report(device_client, beacon)
    lease = timedelta(minutes=5)

    first = services.alert_deliveries_claim(limit=10, lease=lease)
    second = services.alert_deliveries_claim(limit=10, lease=lease)
    after_lease = services.alert_deliveries_claim(limit=10, lease=lease, now=timezone.now() + lease * 2)

    assert len(first) == 3 and second == [] and len(after_lease) == 3


@pytest.mark.parametrize("webhook", [{"delay": 0.2}], indirect=True)
def test_two_senders_at_once_never_send_the_same_alert(settings, webhook, device_client, beacon):
    settings.ALERT_WEBHOOK_URLS = [f"{webhook.url}/hook/{n}" for n in range(6)]
    post_report(device_client, beacon)
    start = threading.Barrier(2)
    errors = []

    def sender():
        try:
            start.wait()
            alerts.send_due_alerts(limit=10)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(r["path"] for r in webhook.requests) == sorted(f"/hook/{n}" for n in range(6))
    assert AlertDelivery.objects.filter(delivered_at__isnull=False, attempts=1).count() == 6


def test_backoff_doubles_from_the_base_and_stops_at_the_cap():
    waits = [AlertDelivery.backoff(n, base_seconds=30, max_seconds=3600).total_seconds() for n in range(1, 10)]

    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
