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
