"""The alert sender under faults: a round that runs long, a target that hangs, a sender that dies, a lost
evidence file, a target that never answers; and Standard Webhooks signatures with secret rotation."""

import base64
import io
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from common.cap import cap_problems
from incidents import services
from incidents.models import AlertDelivery, AlertTarget, IncidentImage
from incidents.tests.alert_servers import SMTPInbox, WebhookReceiver
from incidents.tests.factories import image_bytes, report, upload
from naarikavach.testing import wait_until
from realtime_server.testing import database_env

pytestmark = pytest.mark.django_db(transaction=True)

VIOLENCE = reverse("ai-violence-detected")
SECRET = "whsec_" + base64.b64encode(b"the current signing secret!!").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"last month's signing secret").decode()



@pytest.fixture
def smtp(settings):
    inbox = SMTPInbox().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", inbox.port, 5
    yield inbox
    inbox.stop()


@pytest.fixture
def signing(settings):
    settings.ALERT_WEBHOOK_SECRET = SECRET
    settings.ALERT_WEBHOOK_PREVIOUS_SECRETS = [OLD_SECRET]
    settings.ALERT_WEBHOOK_TIMEOUT_SECONDS = 30


def post_report(client, beacon, frames=()):
    data = {**report(beacon.beacon_id), "images": [upload(f"f{n}.jpg", frame) for n, frame in enumerate(frames)]}
    response = client.post(VIOLENCE, data, format="multipart")
    assert response.status_code == 201, response.json()
    return response.json()


def send_once():
    call_command("send_alerts", "--once", stdout=io.StringIO())


def test_a_claim_holds_for_a_full_lease_from_when_it_is_made_even_late_in_a_round(settings, device_client, beacon):
    settings.ALERT_WEBHOOK_URLS = ["http://127.0.0.1:9/hook"]
    post_report(device_client, beacon)
    round_began = timezone.now() - timedelta(minutes=10)  # a round that has run for ten minutes already
    AlertDelivery.objects.update(next_attempt_at=round_began - timedelta(seconds=1))

    first = services.alert_deliveries_claim(limit=1, lease=timedelta(minutes=5), due_by=round_began)
    second = services.alert_deliveries_claim(limit=1, lease=timedelta(minutes=5))

    assert len(first) == 1 and second == []
    assert AlertDelivery.objects.get().claimed_until > timezone.now() + timedelta(minutes=4)


@pytest.mark.slow
def test_a_webhook_that_hangs_does_not_hold_back_email(settings, smtp, signing, device_client, beacon, other_beacon):
    hanging = WebhookReceiver(gate=threading.Event()).start()
    settings.ALERT_WEBHOOK_URLS = [hanging.url + "/hook"]
    post_report(device_client, beacon)  # the webhook alert is queued first
    settings.ALERT_WEBHOOK_URLS, settings.ALERT_EMAIL_RECIPIENTS = [], ["control-room@example.org"]
    scream = device_client.post(reverse("ai-scream-detected"), report(beacon.beacon_id), format="json")
    assert scream.status_code == 201  # another incident: an email alert, queued second
    sender = threading.Thread(target=send_once)
    try:
        sender.start()
        # The webhook has been asked and has not answered, and the email has gone out all the same.
        emailed_while_webhook_hangs = wait_until(
            lambda: hanging.arrived == 1 and len(smtp.messages) == 1 and hanging.requests == [], 15
        )
    finally:
        hanging.gate.set()
        sender.join(30)
        hanging.stop()

    assert emailed_while_webhook_hangs


@pytest.mark.slow
def test_a_sender_killed_mid_send_is_taken_over_within_seconds(settings, signing, device_client, beacon):
    hanging = WebhookReceiver(gate=threading.Event()).start()
    settings.ALERT_WEBHOOK_URLS = [hanging.url + "/hook"]
    post_report(device_client, beacon)
    env = {**os.environ, **database_env(), "ALERT_WEBHOOK_SECRET": SECRET, "ALERT_CLAIM_LEASE_SECONDS": "1.5",
           "ALERT_WEBHOOK_TIMEOUT_SECONDS": "60", "MEDIA_ROOT": str(settings.MEDIA_ROOT), "LOG_LEVEL": "WARNING"}

    def start_sender():
        return subprocess.Popen([sys.executable, "manage.py", "send_alerts", "--interval", "0.2"],
                                cwd=django_settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    first = start_sender()
    second = None
    try:
        assert wait_until(lambda: hanging.arrived == 1, 30)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        second = start_sender()
        taken_over = wait_until(lambda: hanging.arrived == 2, 30)
        took = time.monotonic() - killed_at
    finally:
        hanging.gate.set()
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        hanging.stop()

    assert taken_over and took < 10


def test_an_email_whose_evidence_file_is_gone_is_sent_without_it_and_says_so(settings, smtp, device_client, beacon):
    settings.ALERT_EMAIL_RECIPIENTS = ["control-room@example.org"]
    post_report(device_client, beacon, [image_bytes(), image_bytes("PNG")])
    lost = IncidentImage.objects.order_by("id").first()
    lost.image.storage.delete(lost.image.name)

    send_once()

    [message] = smtp.messages
    attachments = [part for part in message.walk() if part.get_content_disposition() == "attachment"]
    body = next(part for part in message.walk() if part.get_content_type() == "text/plain").get_payload(decode=True)
    assert [part.get_filename() for part in attachments] == ["evidence-2-faces-blurred.png"]
    assert b"Evidence image 1 could not be attached" in body
    assert AlertDelivery.objects.get().delivered_at is not None


def test_webhooks_verify_with_the_standard_webhooks_library_under_the_new_and_the_old_secret(
    settings, signing, device_client, beacon
):
    receiver = WebhookReceiver().start()
    settings.ALERT_WEBHOOK_URLS = [receiver.url + "/hook"]
    body = post_report(device_client, beacon)
    try:
        send_once()
    finally:
        receiver.stop()

    [request] = receiver.requests
    headers = {key.lower(): value for key, value in request["headers"].items()}
    payload = Webhook(SECRET).verify(request["body"], headers)
    Webhook(OLD_SECRET).verify(request["body"], headers)  # receivers not yet moved over still verify
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"somebody else's secret").decode()).verify(request["body"], headers)
    assert headers["webhook-id"] == f"nk-alert-{AlertDelivery.objects.get().pk}"
    assert payload["type"] == "incident_created" and payload["incident"]["incident_id"] == body["incident_id"]
    assert headers["x-naarikavach-signature"].startswith("sha256=")  # kept for one release


def test_a_target_that_keeps_failing_is_dead_after_the_last_attempt_and_an_admin_can_retry_it(
    settings, signing, device_client, beacon, admin_user, client_for
):
    settings.ALERT_MAX_ATTEMPTS = 3
    receiver = WebhookReceiver(failures=3).start()
    settings.ALERT_WEBHOOK_URLS = [receiver.url + "/hook"]
    post_report(device_client, beacon)
    delivery = AlertDelivery.objects.get()
    try:
        for _ in range(4):
            AlertDelivery.objects.filter(dead_at__isnull=True).update(next_attempt_at=timezone.now())
            send_once()
        delivery.refresh_from_db()
        dead = (delivery.dead_at is not None, delivery.attempts, delivery.delivered_at, len(receiver.requests))

        metrics_when_dead = client_for(admin_user).get(reverse("report-alert-deliveries")).json()
        admin = Client()
        admin.force_login(admin_user)
        changelist = reverse("admin:incidents_alertdelivery_changelist")
        shown = admin.get(changelist + "?state=dead").content.decode()
        admin.post(changelist, {"action": "retry", "_selected_action": [delivery.pk]})
        send_once()
    finally:
        receiver.stop()

    delivery.refresh_from_db()
    assert dead == (True, 3, None, 3)
    assert metrics_when_dead["dead"] == 1 and metrics_when_dead["dead_by_target"] == [
        {"channel": "webhook", "target": receiver.url + "/hook", "count": 1}]
    assert "HTTP 500: receiver is down" in shown
    assert "HTTP 500" in AlertDelivery.objects.get().attempt_log.get(number=3).error
    assert delivery.delivered_at is not None and delivery.dead_at is None and len(receiver.requests) == 4


def test_an_sos_is_alerted_by_email_and_status_changes_go_to_subscribers_only(
    settings, smtp, signing, dispatcher, client_for
):
    receiver = WebhookReceiver().start()
    settings.ALERT_EMAIL_RECIPIENTS = ["control-room@example.org"]
    AlertTarget.objects.create(name="CAD", channel="webhook", target=receiver.url + "/cad",
                               events=["sos_created", "sos_acknowledged"], format="cap")
    AlertTarget.objects.create(name="Pager", channel="webhook", target=receiver.url + "/pager",
                               events=["sos_resolved"])
    created = client_for(None).post(reverse("sos-create"), {
        "name": "Asha", "sos_type": 0, "initial_latitude": 22.5726, "initial_longitude": 88.3639, "accuracy_m": 25,
    }, format="json").json()
    client_for(dispatcher).post(reverse("sos-acknowledge", args=[created["sos_id"]]))
    try:
        send_once()
    finally:
        receiver.stop()

    [message] = smtp.messages
    assert message["Subject"] == f"[NaariKavach] SOS emergency #{created['sos_id']} from Asha"
    assert sorted((r["path"], r["headers"]["X-NaariKavach-Event"]) for r in receiver.requests) == [
        ("/cad", "sos_acknowledged"), ("/cad", "sos_created"),
    ]
    for request in receiver.requests:
        assert request["headers"]["Content-Type"] == "application/cap+xml"
        assert cap_problems(request["body"]) == []


def test_an_alert_target_names_only_known_events(db):
    from django.core.exceptions import ValidationError

    target = AlertTarget(name="Typo", channel="webhook", target="https://cad.example.org/", events=["sos_createdd"])
    with pytest.raises(ValidationError):
        target.full_clean()
    target.events = ["sos_created", "sos_resolved"]
    target.full_clean()
