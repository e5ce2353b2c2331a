"""The real scheduler (`manage.py run_worker`, two of them) against a live API, a real SMTP server and a
real webhook receiver: an SOS left alone escalates on time, once per step, and the supervisors' mailbox and
webhook get it, signed the Standard Webhooks way; an SOS acknowledged in time does not escalate."""

import base64
import os
import subprocess
import sys
from datetime import datetime, timedelta

import httpx
import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from accounts.services import token_issue
from incidents.tests.alert_servers import SMTPInbox, WebhookReceiver
from naarikavach.testing import wait_until
from realtime.models import OutboxEvent
from realtime_server.testing import database_env
from response.models import Escalation
from response.tests.conftest import make_ladder
from sos.models import SOS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SECRET = "whsec_" + base64.b64encode(b"supervisors' webhook secret").decode()
# Short steps stand in for the defaults' 30 s and 120 s; the code path is the same.
FIRST_STEP, SECOND_STEP = 2, 4



@pytest.fixture
def mailbox():
    inbox = SMTPInbox().start()
    yield inbox
    inbox.stop()


@pytest.fixture
def cad():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def schedulers(mailbox, cad, settings):
    env = {**os.environ, **database_env(), "ALERT_WEBHOOK_SECRET": SECRET, "EMAIL_HOST": "127.0.0.1",
           "EMAIL_PORT": str(mailbox.port), "ESCALATION_SUPERVISOR_EMAILS": "duty-inspector@example.org",
           "ESCALATION_SUPERVISOR_WEBHOOKS": cad.url + "/cad",
           # The shipped ESCALATION_TICK_SECONDS (not set here): "within 1 s" is a promise of the defaults.
           "ALERT_POLL_SECONDS": "0.2", "ALERT_EMAIL_RECIPIENTS": "", "ALERT_WEBHOOK_URLS": "", "LOG_LEVEL": "WARNING",
           "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    processes = [
        subprocess.Popen([sys.executable, "manage.py", "run_worker"], cwd=django_settings.BASE_DIR, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for _ in range(2)
    ]
    for process in processes:  # started: each says so once its first tick is about to run
        assert process.stdout.readline().startswith("Escalating every")
    yield processes
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait()


def test_an_sos_left_alone_escalates_on_time_once_per_step_by_mail_and_signed_webhook(
    live_server, schedulers, mailbox, cad, dispatcher
):
    make_ladder("sos", "emergency", [
        {"level": 1, "in_status": "active", "after_seconds": FIRST_STEP, "notify_supervisors": True},
        {"level": 2, "in_status": "active", "after_seconds": SECOND_STEP, "notify_supervisors": True},
    ])
    api = httpx.Client(base_url=live_server.url, timeout=10)
    staff = {"Authorization": f"Token {token_issue(user=dispatcher)}"}
    sos_body = {"name": "Asha", "sos_type": 0, "initial_latitude": 22.5726, "initial_longitude": 88.3639}
    answered = api.post("/api/create-sos/", json=sos_body).json()["sos_id"]
    assert api.post(f"/api/sos/{answered}/acknowledge/", headers=staff).status_code == 200
    left_alone = api.post("/api/create-sos/", json=sos_body).json()["sos_id"]

    # When each level became visible to everyone else (committed), seen from outside the schedulers.
    seen: dict[int, datetime] = {}

    def sent_and_watched():
        for level in Escalation.objects.filter(sos_id=left_alone).values_list("level", flat=True):
            seen.setdefault(level, timezone.now())
        return len(cad.requests) >= 2 and len(mailbox.messages) >= 2

    both_levels_sent = wait_until(sent_and_watched, 30)

    assert both_levels_sent
    created_at = SOS.objects.get(pk=left_alone).created_at
    escalations = list(Escalation.objects.filter(sos_id=left_alone).order_by("level"))
    assert [e.level for e in escalations] == [1, 2]
    for escalation, after in zip(escalations, (FIRST_STEP, SECOND_STEP)):
        deadline = created_at + timedelta(seconds=after)
        assert timedelta(0) <= escalation.fired_at - deadline < timedelta(seconds=1)
        assert seen[escalation.level] - deadline < timedelta(seconds=1)
    assert not Escalation.objects.filter(sos_id=answered).exists()
    # Two schedulers, each step once: one mail and one webhook per level, one realtime event per level.
    assert sorted(m["Subject"] for m in mailbox.messages) == [
        f"[NaariKavach] ESCALATED L{level} SOS emergency #{left_alone} from Asha" for level in (1, 2)
    ]
    assert mailbox.recipients == [["duty-inspector@example.org"]] * 2
    assert len(cad.requests) == 2
    levels = []
    for request in cad.requests:
        headers = {key.lower(): value for key, value in request["headers"].items()}
        payload = Webhook(SECRET).verify(request["body"], headers)
        assert (payload["type"], payload["sos"]["sos_id"]) == ("sos_escalated", left_alone)
        levels.append(payload["sos"]["escalation_level"])
    assert sorted(levels) == [1, 2]
    events = OutboxEvent.objects.filter(event="sos_escalated").order_by("id")
    assert [(e.payload["sos_id"], e.payload["level"]) for e in events] == [(left_alone, 1), (left_alone, 2)]
