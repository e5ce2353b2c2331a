"""A device report re-sent with the same Idempotency-Key (a worker killed between the API's commit and its
answer) is answered with the original result and stored once: no second incident, no second alert."""

import pytest
from django.urls import reverse

from incidents.models import AIEvent, AlertDelivery, Incident, IncidentImage
from incidents.tests.factories import jpegs, report

VIOLENCE = reverse("ai-violence-detected")

pytestmark = pytest.mark.django_db


def _send(client, beacon, key, **extra):
    return client.post(VIOLENCE, {**report(beacon.beacon_id), **extra}, format="multipart",
                       HTTP_IDEMPOTENCY_KEY=key)


def test_a_repeated_key_gets_the_original_answer_and_changes_nothing(device_client, beacon, settings):
    settings.ALERT_EMAIL_RECIPIENTS = ["control@example.org"]
    settings.INCIDENT_DEDUP_WINDOW_SECONDS = 0  # After the window a duplicate would open a second incident.
    first = _send(device_client, beacon, "cam01-000042", images=jpegs(1))
    again = _send(device_client, beacon, "cam01-000042", images=jpegs(1))

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert {k: v for k, v in again.json().items()} == first.json()
    assert (AIEvent.objects.count(), Incident.objects.count(), AlertDelivery.objects.count()) == (1, 1, 1)
    assert IncidentImage.objects.count() == 1


def test_a_new_key_is_a_new_report(device_client, beacon):
    _send(device_client, beacon, "cam01-000042")
    second = _send(device_client, beacon, "cam01-000043")
    assert second.status_code == 200 and second.json()["status"] == "signal_added_to_existing"
    assert AIEvent.objects.count() == 2


def test_keys_belong_to_one_device(device_client, roaming_client, beacon):
    _send(device_client, beacon, "shared-key")
    other = _send(roaming_client, beacon, "shared-key")
    assert "Idempotent-Replayed" not in other
    assert AIEvent.objects.count() == 2


def test_a_malformed_key_is_refused(device_client, beacon):
    response = _send(device_client, beacon, "not a key!")
    assert response.status_code == 400
    assert "idempotency_key" in response.json()["fields"]
    assert AIEvent.objects.count() == 0
