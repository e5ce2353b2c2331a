"""What an operator (and a load balancer) sees: /healthz of the API, HTTPS mode, the security headers."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from incidents.models import AlertDelivery
from incidents.tests.factories import report
from incidents.tests.fixtures import _private_evidence_dir, beacon, device, device_client  # noqa: F401
from realtime_server.testing import realtime_server  # noqa: F401  (a module-wide live realtime server)

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_realtime_check(request, settings):
    """Most tests here run without a realtime server; the ones that start one point the check at it."""
    if "realtime_server" not in request.fixturenames:
        settings.HEALTH_REALTIME_URL = ""


def test_healthz_is_ok_with_statuses_only(client):
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "alerts": "ok"}}


def test_healthz_answers_503_when_the_database_is_unreachable(client, monkeypatch):
    from django.db import OperationalError

    import naarikavach.health

    class Unreachable:
        def cursor(self):
            raise OperationalError("could not connect to server")

    monkeypatch.setattr(naarikavach.health, "connection", Unreachable())
    response = client.get("/healthz")
    assert (response.status_code, response.json()["checks"]) == (503, {"database": "unreachable", "alerts": "unknown"})
    # The load balancer's check fails too: this instance cannot take an SOS.
    serving = client.get("/healthz/serving")
    assert (serving.status_code, serving.json()) == (503, {"status": "unhealthy", "checks": {"database": "unreachable"}})


def test_healthz_answers_503_when_alerts_were_given_up(client, device_client, beacon, settings):
    settings.ALERT_EMAIL_RECIPIENTS = ["control@example.org"]
    assert device_client.post("/api/ai/violence-detected/", report(beacon.beacon_id)).status_code == 201
    AlertDelivery.objects.update(dead_at=timezone.now(), attempts=settings.ALERT_MAX_ATTEMPTS)
    response = client.get("/healthz")
    assert (response.status_code, response.json()["checks"]["alerts"]) == (503, "dead")
    # An email target refusing alerts is the operator's news, not a reason to take the instance out of the
    # load balancer's rotation: it can still take every SOS.
    serving = client.get("/healthz/serving")
    assert (serving.status_code, serving.json()) == (200, {"status": "ok", "checks": {"database": "ok"}})
    settings.HEALTH_ALERT_DEAD_MAX = AlertDelivery.objects.count()  # an operator who tolerates that many
    assert client.get("/healthz").status_code == 200
    settings.HEALTH_ALERT_DEAD_MAX = 0
    AlertDelivery.objects.update(dead_at=timezone.now() - timedelta(seconds=settings.HEALTH_ALERT_DEAD_WINDOW_SECONDS + 5))
    assert client.get("/healthz").status_code == 200  # given up long ago: no longer news


def test_healthz_answers_503_when_the_realtime_server_is_unreachable(client, settings):
    from realtime_server.testing import free_port

    settings.HEALTH_REALTIME_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "alerts": "ok", "realtime": "unreachable",
                                         "outbox": "unknown"}


def test_healthz_detail_gives_figures_to_this_machine_and_dispatchers_only(client, dispatcher, officer_a, citizen):
    from naarikavach.testing import api_token

    away = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/healthz/detail", **away).status_code == 403
    assert client.get("/healthz/detail", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    for user in (officer_a, citizen):
        assert client.get("/healthz/detail", HTTP_AUTHORIZATION=f"Token {api_token(user)}", **away).status_code == 403
    answer = client.get("/healthz/detail", HTTP_AUTHORIZATION=f"Token {api_token(dispatcher)}", **away)
    assert answer.status_code == 200
    assert answer.json()["figures"]["alerts"] == {"pending": 0, "dead_recently": 0, "oldest_pending_seconds": None}
    assert client.get("/healthz/detail").json()["checks"] == {"database": "ok", "alerts": "ok"}


def test_healthz_answers_503_while_alerts_are_stuck(client, device_client, beacon, settings):
    settings.ALERT_EMAIL_RECIPIENTS = ["control@example.org"]
    settings.HEALTH_ALERT_BACKLOG_SECONDS = 300
    assert device_client.post("/api/ai/violence-detected/", report(beacon.beacon_id)).status_code == 201
    assert client.get("/healthz").status_code == 200  # Just raised: the sender has time.
    AlertDelivery.objects.update(created_at=timezone.now() - timedelta(minutes=6))
    response = client.get("/healthz")
    assert (response.status_code, response.json()["checks"]["alerts"]) == (503, "backlog")
    assert not any(char.isdigit() for char in response.content.decode())  # statuses, no figures
    pending = client.get("/healthz/detail").json()["figures"]["alerts"]
    assert pending["pending"] == AlertDelivery.objects.count() and pending["oldest_pending_seconds"] >= 360
    AlertDelivery.objects.update(delivered_at=timezone.now())
    assert client.get("/healthz").status_code == 200


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_healthz_follows_the_realtime_server_and_how_far_behind_it_delivers(client, realtime_server, settings):
    import socket

    from django.db import connection

    from realtime.events import NOTIFY_CHANNEL
    from realtime.models import OutboxEvent

    settings.HEALTH_REALTIME_URL = realtime_server.url
    settings.HEALTH_OUTBOX_LAG_SECONDS = 30
    response = client.get("/healthz")
    assert (response.status_code, response.json()["checks"]) == (
        200, {"database": "ok", "alerts": "ok", "realtime": "ok", "outbox": "ok"})
    # An event the server has not delivered for a minute: it polls every 30 s here and nobody nudged it.
    OutboxEvent.objects.create(event="unit_status", rooms=["nobody"], payload={},
                               created_at=timezone.now() - timedelta(minutes=1))
    response = client.get("/healthz")
    assert (response.status_code, response.json()["checks"]["outbox"]) == (503, "lagging")
    assert client.get("/healthz/detail").json()["figures"]["outbox"]["pending"] == 1
    # Wake it as publishing does: NOTIFY on PostgreSQL, a datagram on SQLite.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [NOTIFY_CHANNEL])
    else:
        host, _, port = realtime_server.nudge_addr.rpartition(":")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"outbox", (host, int(port)))
    wait_until(lambda: client.get("/healthz").status_code == 200)
    realtime_server.stop()
    try:
        assert client.get("/healthz").json()["checks"]["realtime"] == "unreachable"
    finally:
        realtime_server.start()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_realtime_server_answers_503_while_it_cannot_read_the_outbox_and_the_api_says_so(client, settings):
    import json
    import urllib.error
    import urllib.request

    from django.db import connection

    from realtime_server.testing import RealtimeServer

    def realtime_health() -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=5) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    server = RealtimeServer(poll_interval=0.2, extra_env={"REALTIME_HEALTH_STALE_SECONDS": "0.5"}).start()
    settings.HEALTH_REALTIME_URL = server.url
    try:
        assert realtime_health() == (200, {"status": "ok"})
        with connection.cursor() as cursor:  # the outbox is gone, as with a dead or misconfigured database
            cursor.execute("ALTER TABLE realtime_outboxevent RENAME TO realtime_outboxevent_away")
        try:
            wait_until(lambda: realtime_health() == (503, {"status": "unhealthy"}))
            response = client.get("/healthz")
            assert (response.status_code, response.json()["checks"]["realtime"]) == (503, "unhealthy")
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE realtime_outboxevent_away RENAME TO realtime_outboxevent")
        wait_until(lambda: realtime_health() == (200, {"status": "ok"}))
        assert client.get("/healthz").json()["checks"]["realtime"] == "ok"
    finally:
        server.stop()


def wait_until(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


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
    from prometheus_client.parser import text_string_to_metric_families

    from naarikavach.testing import client_for

    def scrape() -> dict:
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(client.get("/metrics").content.decode())
                for s in family.samples}

    ok = ("naarikavach_api_requests_total", (("method", "GET"), ("route", "api/sos/"), ("status", "200")))
    missing = ("naarikavach_api_requests_total",
               (("method", "GET"), ("route", "api/sos/<int:sos_id>/"), ("status", "404")))
    timed = ("naarikavach_api_request_seconds_count", (("method", "GET"), ("route", "api/sos/")))
    before = scrape()
    dispatcher_client = client_for(dispatcher)
    dispatcher_client.get("/api/sos/")
    dispatcher_client.get("/api/sos/")
    dispatcher_client.get("/api/sos/999999/")
    after = scrape()
    assert after[ok] - before.get(ok, 0) == 2 and after[timed] - before.get(timed, 0) == 2
    assert after[missing] - before.get(missing, 0) == 1
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
