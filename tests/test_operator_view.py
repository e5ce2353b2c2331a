"""What an operator (and a load balancer) sees: /healthz of the API, HTTPS mode, the security headers."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from incidents.models import AlertDelivery
from incidents.tests.factories import report
from incidents.tests.fixtures import _private_evidence_dir, beacon, device, device_client  # noqa: F401

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_with_statuses_only(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "alerts": "ok"}}


def test_healthz_answers_503_while_alerts_are_stuck(client, device_client, beacon, settings):
    settings.ALERT_EMAIL_RECIPIENTS = ["control@example.org"]
    settings.HEALTH_ALERT_BACKLOG_SECONDS = 300
    assert device_client.post("/api/ai/violence-detected/", report(beacon.beacon_id)).status_code == 201
    assert client.get("/healthz").status_code == 200  # Just raised: the sender has time.
    AlertDelivery.objects.update(created_at=timezone.now() - timedelta(minutes=6))
    response = client.get("/healthz")
    assert (response.status_code, response.json()["checks"]["alerts"]) == (503, "backlog")
    AlertDelivery.objects.update(delivered_at=timezone.now())
    assert client.get("/healthz").status_code == 200


def _deploy_check(env_extra: dict) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="naarikavach.settings", DJANGO_ALLOWED_HOSTS="naarikavach.example.org",
               **env_extra)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_https_mode_passes_the_deploy_check_and_plain_mode_is_told_what_is_missing():
    https = _deploy_check({"DJANGO_HTTPS": "1"})
    assert https.returncode == 0, https.stdout + https.stderr
    assert "no issues" in https.stdout
    plain = _deploy_check({})
    assert plain.returncode != 0 and "SECURE_HSTS_SECONDS" in plain.stderr + plain.stdout


def test_every_page_carries_a_content_security_policy_and_the_import_map_its_nonce(client, dispatcher):
    client.force_login(dispatcher)
    page = client.get("/dashboard/")
    policy = page["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<script type="importmap" nonce="{nonce}">' in page.content.decode()
    assert "Content-Security-Policy" in client.get("/api/docs/") and "Content-Security-Policy" in client.get("/sos/")
    docs = client.get("/api/docs/").content.decode()
    assert "<script>" not in docs  # Swagger UI's settings come as a script file, not inline.


def test_api_metrics_count_requests_by_route_for_this_machine_only(client, dispatcher):
    from naarikavach.testing import client_for

    client_for(dispatcher).get("/api/sos/")
    text = client.get("/metrics").content.decode()
    assert 'naarikavach_api_requests_total{method="GET",route="api/sos/",status="200"}' in text
    assert "naarikavach_api_request_seconds_bucket" in text
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
