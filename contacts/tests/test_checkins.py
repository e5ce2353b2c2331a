"""Walk me home: the server holds the timer; a missed check-in raises an SOS with her walk and emails her contacts."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from contacts.models import CheckIn, CheckInPoint
from contacts.sending import contact_alerts_send_due
from contacts.services import checkin_expire_due
from incidents.tests.alert_servers import SMTPInbox
from naarikavach.testing import client_for
from realtime.models import OutboxEvent
from sos.models import SOS

pytestmark = pytest.mark.django_db


@pytest.fixture
def walking(citizen):
    phone = client_for(citizen)
    phone.post("/api/contacts/", {"name": "Maa", "email": "maa@example.org"})
    checkin = phone.post("/api/checkins/", {"minutes": 20, "pin": "4321", "destination": "Hostel gate"}).json()
    for i, lat in enumerate((22.570, 22.571, 22.572)):
        recorded = timezone.now() + timedelta(seconds=i)
        phone.post(f"/api/checkins/{checkin['id']}/points/", {"latitude": lat, "longitude": 88.36,
                                                              "recorded_at": recorded.isoformat()})
    return phone, checkin


def test_positions_during_the_walk_are_seen_by_no_one_and_checking_in_deletes_them(walking, dispatcher):
    phone, checkin = walking
    assert not SOS.objects.exists() and not OutboxEvent.objects.exists()
    assert phone.post(f"/api/checkins/{checkin['id']}/complete/", {"pin": "0000"}).status_code == 400
    assert phone.post(f"/api/checkins/{checkin['id']}/complete/", {"pin": "4321"}).json()["running"] is False
    assert not CheckInPoint.objects.exists()
    assert checkin_expire_due(now=timezone.now() + timedelta(hours=2)) == []


def test_nothing_happens_before_the_time_plus_grace(walking, settings):
    checkin = CheckIn.objects.get()
    assert checkin_expire_due(now=checkin.due_at + timedelta(seconds=settings.CHECKIN_GRACE_SECONDS - 1)) == []
    assert not SOS.objects.exists()


def test_a_missed_check_in_raises_an_sos_with_her_walk_and_her_contact_gets_an_email(walking, settings, citizen):
    inbox = SMTPInbox().start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        checkin = CheckIn.objects.get()
        [sos] = checkin_expire_due(now=checkin.expires_at())
        assert sos.owner == citizen and sos.is_open
        assert [p.latitude for p in sos.locations.order_by("recorded_at")] == [22.570, 22.571, 22.572]
        assert sos.last_latitude == 22.572
        assert OutboxEvent.objects.filter(event="new_sos", payload__sos_id=sos.pk).exists()
        assert sos.audit_trail.filter(action="checkin_expired").exists()
        # Run again: nothing twice.
        assert checkin_expire_due(now=checkin.expires_at() + timedelta(minutes=1)) == []

        assert contact_alerts_send_due() == 1
        [message] = inbox.messages
        assert inbox.recipients == [["maa@example.org"]]
        text = message.get_payload()
        assert "did not check in on the way to Hostel gate" in text and "/sos/live/" in text
    finally:
        inbox.stop()


def test_a_failed_email_is_retried_later_not_lost(walking, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1  # nothing listens there
    checkin = CheckIn.objects.get()
    checkin_expire_due(now=checkin.expires_at())
    assert contact_alerts_send_due() == 0
    from contacts.models import ContactAlert

    alert = ContactAlert.objects.get()
    assert alert.attempts == 1 and alert.last_error and alert.delivered_at is None and alert.next_attempt_at > timezone.now()


def test_the_command_expires_due_check_ins(walking):
    CheckIn.objects.update(due_at=timezone.now() - timedelta(hours=1))
    call_command("expire_checkins", "--once")
    assert SOS.objects.count() == 1


@pytest.mark.parametrize("bad", [{"minutes": 0, "pin": "1234"}, {"minutes": 20, "pin": "12"}, {"minutes": 99999, "pin": "1234"}])
def test_bad_check_ins_are_a_clear_400(citizen, bad):
    response = client_for(citizen).post("/api/checkins/", bad)
    assert response.status_code == 400 and response.json()["fields"]
    assert not CheckIn.objects.exists()


def test_another_citizen_cannot_touch_her_check_in(walking, other_citizen):
    _, checkin = walking
    intruder = client_for(other_citizen)
    assert intruder.post(f"/api/checkins/{checkin['id']}/complete/", {"pin": "4321"}).status_code == 404
    assert intruder.post(f"/api/checkins/{checkin['id']}/points/", {"latitude": 1, "longitude": 1}).status_code == 404
