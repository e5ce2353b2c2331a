"""`manage.py send_alerts` as it runs in production: a separate process that keeps delivering until stopped."""

import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse

from incidents.models import AlertDelivery
from incidents.tests.alert_servers import WebhookReceiver
from incidents.tests.factories import report
from incidents.tests.fixtures import _private_evidence_dir, beacon, device, device_client  # noqa: F401
from naarikavach.testing import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _database_env() -> dict:
    """Point the child process at this test run's database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return {"DATABASE_URL": "", "SQLITE_PATH": str(db["NAME"])}
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return {"DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}



@pytest.fixture
def webhook():
    receiver = WebhookReceiver(failures=1).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def sender(settings, webhook):
    env = {**os.environ, **_database_env(), "ALERT_WEBHOOK_SECRET": "sender-test", "ALERT_RETRY_BASE_SECONDS": "0.2",
           "MEDIA_ROOT": str(settings.MEDIA_ROOT), "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "send_alerts", "--interval", "0.2"], cwd=django_settings.BASE_DIR, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_the_sender_delivers_alerts_as_they_come_retries_and_stops_cleanly(settings, sender, webhook, device_client,
                                                                         beacon):
    settings.ALERT_WEBHOOK_URLS = [webhook.url + "/hook"]

    device_client.post(reverse("ai-violence-detected"), report(beacon.beacon_id), format="json")
    first_delivered = wait_until(lambda: AlertDelivery.objects.filter(delivered_at__isnull=False).count() == 1, 30)
    device_client.post(reverse("ai-scream-detected"), report(beacon.beacon_id), format="json")
    second_delivered = wait_until(lambda: AlertDelivery.objects.filter(delivered_at__isnull=False).count() == 2, 30)
    sender.send_signal(signal.SIGTERM)
    exit_code = sender.wait(timeout=15)

    assert first_delivered and second_delivered, sender.stdout.read() if sender.poll() is not None else ""
    assert exit_code == 0
    # The first request failed (the receiver was "down") and was retried by the running loop.
    assert len(webhook.requests) == 3
    assert sorted(AlertDelivery.objects.values_list("attempts", flat=True)) == [1, 2]
