"""Alert delivery in the API's Prometheus metrics: attempts sent and failed, and alerts given up, by channel."""

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from incidents.models import AlertDelivery
from incidents.tests.alert_servers import free_port
from incidents.tests.test_alerts import make_due, post_report, send_once, smtp  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def scrape() -> dict:
    text = Client().get("/metrics").content.decode()  # the test client comes from 127.0.0.1, as a scraper would
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def moved(before: dict, after: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_sent_failed_and_dead_alerts_are_counted_by_channel(settings, smtp, device_client, beacon):  # noqa: F811
    settings.ALERT_EMAIL_RECIPIENTS = ["control-room@example.org"]
    settings.ALERT_WEBHOOK_URLS = [f"http://127.0.0.1:{free_port()}/hook"]  # nothing listens: every try fails
    settings.ALERT_WEBHOOK_TIMEOUT_SECONDS = 2
    settings.ALERT_MAX_ATTEMPTS = 2
    before = scrape()

    post_report(device_client, beacon)
    send_once()
    first = scrape()
    assert moved(before, first, "naarikavach_alert_attempts_total", channel="email", outcome="sent") == 1
    assert moved(before, first, "naarikavach_alert_attempts_total", channel="webhook", outcome="failed") == 1
    assert moved(before, first, "naarikavach_alerts_dead_total", channel="webhook") == 0

    make_due()
    send_once()
    second = scrape()
    assert moved(first, second, "naarikavach_alert_attempts_total", channel="webhook", outcome="failed") == 1
    assert moved(first, second, "naarikavach_alerts_dead_total", channel="webhook") == 1
    assert moved(first, second, "naarikavach_alert_attempts_total", channel="email", outcome="sent") == 0
    assert AlertDelivery.objects.filter(channel="webhook", dead_at__isnull=False).count() == 1


@pytest.mark.slow
def test_the_apis_metrics_add_in_the_alert_senders_counts_from_its_own_process(tmp_path):
    """As run_platform.sh runs them: the sender in `run_worker`, the API in gunicorn, one multiprocess directory."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "naarikavach.settings"}
    sender = ("import django; django.setup(); from incidents.metrics import count_attempt; "
              "count_attempt(channel='webhook', succeeded=False, dead=True); "
              "count_attempt(channel='email', succeeded=True, dead=False)")
    subprocess.run([sys.executable, "-c", sender], cwd=repo, env=env, check=True, timeout=120)
    api = ("import django; django.setup(); from django.test import Client; "
           "print(Client().get('/metrics', HTTP_HOST='127.0.0.1').content.decode())")
    text = subprocess.run([sys.executable, "-c", api], cwd=repo, env={**env, "DJANGO_ALLOWED_HOSTS": "127.0.0.1"},
                          check=True, timeout=120, capture_output=True, text=True).stdout
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("naarikavach_alert_attempts_total", (("channel", "webhook"), ("outcome", "failed")))] == 1
    assert samples[("naarikavach_alert_attempts_total", (("channel", "email"), ("outcome", "sent")))] == 1
    assert samples[("naarikavach_alerts_dead_total", (("channel", "webhook"),))] == 1
