"""`manage.py detector_demo`: a new user sees an incident raised end to end, labelled as a demo, with no weights."""

import pytest
from django.core.management import call_command

from incidents.models import Incident
from incidents.tests.fixtures import _private_evidence_dir  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_the_demo_raises_one_incident_labelled_as_a_demo(live_server, tmp_path, caplog):
    call_command("detector_demo", api_url=live_server.url, workdir=str(tmp_path))

    incident = Incident.objects.get()
    assert incident.kind == "violence" and incident.beacon.name == "DEMO beacon (not a real place)"
    assert "DEMO-corridor" in incident.description and incident.images.exists()
    assert "DEMO MODE" in caplog.text
    # A second run reuses the demo registrations (the device gets a new key) and still reports.
    call_command("detector_demo", api_url=live_server.url, workdir=str(tmp_path / "again"))
    assert Incident.objects.get().signal_count == 2
