"""Trusted contacts: up to five per signed-in citizen, told with a read-only live link when she raises an SOS."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import ContactAlert, LiveLink, TrustedContact
from naarikavach.testing import client_for
from sos.models import SOS

pytestmark = pytest.mark.django_db

VALID_SOS = {"name": "Asha", "sos_type": 0, "initial_latitude": 12.9716, "initial_longitude": 77.5946}


def add(client, **contact):
    return client.post("/api/contacts/", {"name": "Maa", "email": "maa@example.org", "phone": "+919800000000", **contact})


def test_a_citizen_keeps_up_to_five_contacts_and_they_are_hers_alone(citizen, other_citizen):
    mine = client_for(citizen)
    assert [add(mine, name=f"C{i}").status_code for i in range(6)] == [201] * 5 + [409]
    assert TrustedContact.objects.filter(owner=citizen).count() == 5
    assert client_for(other_citizen).get("/api/contacts/").json() == []
    theirs = TrustedContact.objects.filter(owner=citizen).first()
    assert client_for(other_citizen).delete(f"/api/contacts/{theirs.pk}/").status_code == 404
    assert mine.delete(f"/api/contacts/{theirs.pk}/").status_code == 204


@pytest.mark.parametrize("bad", [{"name": ""}, {"email": "not-an-email"}, {"email": "", "phone": ""}])
def test_bad_contacts_are_a_clear_400(citizen, bad):
    response = add(client_for(citizen), **bad)
    assert response.status_code == 400 and response.json()["fields"]
    assert not TrustedContact.objects.exists()


def test_anonymous_callers_have_no_contacts(anon):
    assert add(anon).status_code in (401, 403)


def test_her_sos_queues_an_alert_with_a_live_link_for_each_contact(citizen, anon):
    add(client_for(citizen))
    add(client_for(citizen), name="Didi", email="", phone="+919811111111")
    body = client_for(citizen).post("/api/create-sos/", VALID_SOS).json()
    alerts = ContactAlert.objects.filter(sos_request_id=body["sos_id"])
    assert [a.target for a in alerts] == ["maa@example.org"]  # Didi has no email and no gateway is configured
    assert "/sos/live/" in alerts[0].body
    assert LiveLink.objects.filter(sos_request_id=body["sos_id"]).count() == 2
    # An anonymous SOS has nobody to tell.
    anon.post("/api/create-sos/", VALID_SOS)
    assert ContactAlert.objects.count() == 1


def test_a_gateway_webhook_is_queued_for_contacts_with_a_phone(citizen, settings):
    settings.CONTACT_WEBHOOK_URL = "http://gateway.example/sms"
    add(client_for(citizen), email="")
    client_for(citizen).post("/api/create-sos/", VALID_SOS)
    alert = ContactAlert.objects.get()
    assert (alert.channel, alert.target, alert.payload["phone"]) == ("webhook", "http://gateway.example/sms", "+919800000000")


def _live_token(citizen):
    from contacts import services

    add(client_for(citizen))
    sos = SOS.objects.get(pk=client_for(citizen).post("/api/create-sos/", VALID_SOS).json()["sos_id"])
    LiveLink.objects.filter(sos_request=sos).delete()
    return sos, services.contacts_alert_sos(sos=sos)[0]


def test_the_live_link_shows_her_status_and_trail_and_nothing_else(citizen, anon):
    sos, token = _live_token(citizen)
    view = anon.get(f"/api/live/{token}/").json()
    assert set(view) == {"name", "status", "location_pending", "created_at", "closed_at", "trail"}
    assert view["status"] == "active" and view["trail"][0]["latitude"] == 12.9716
    # The token opens nothing else.
    assert client_for(None, sos_token=token).get(f"/api/sos/{sos.pk}/").status_code == 404
    assert anon.get("/api/live/not-a-token/").status_code == 404


def test_the_live_link_ends_an_hour_after_the_sos_closes_and_can_be_revoked(citizen, anon):
    sos, token = _live_token(citizen)
    SOS.objects.filter(pk=sos.pk).update(status="resolved", closed_at=timezone.now() - timedelta(minutes=59))
    assert anon.get(f"/api/live/{token}/").status_code == 200
    SOS.objects.filter(pk=sos.pk).update(closed_at=timezone.now() - timedelta(minutes=61))
    assert anon.get(f"/api/live/{token}/").status_code == 404

    sos, token = _live_token(citizen)
    assert client_for(None, sos_token="wrong").post(f"/api/sos/{sos.pk}/live-links/revoke/").status_code == 404
    assert client_for(citizen).post(f"/api/sos/{sos.pk}/live-links/revoke/").json()["revoked"] >= 1
    assert anon.get(f"/api/live/{token}/").status_code == 404


def test_the_gateway_webhook_is_signed_and_retried_until_delivered(citizen, settings):
    import json

    from contacts.sending import contact_alerts_send_due
    from incidents.alerts import webhook_signature
    from incidents.tests.alert_servers import WebhookReceiver

    receiver = WebhookReceiver(failures=1).start()
    try:
        settings.CONTACT_WEBHOOK_URL = receiver.url + "/sms"
        add(client_for(citizen), email="")
        client_for(citizen).post("/api/create-sos/", VALID_SOS)
        assert contact_alerts_send_due() == 0  # the gateway is down once
        alert = ContactAlert.objects.get()
        assert alert.attempts == 1 and "500" in alert.last_error
        assert contact_alerts_send_due(now=alert.next_attempt_at) == 1
        request = receiver.requests[-1]
        body = json.loads(request["body"])
        assert body["phone"] == "+919800000000" and "/sos/live/" in body["text"]
        assert request["headers"]["X-NaariKavach-Signature"] == webhook_signature(request["body"], settings.ALERT_WEBHOOK_SECRET)
        assert ContactAlert.objects.get().delivered_at is not None
    finally:
        receiver.stop()
