"""The admin's lists read like the console: an SOS with phone, last position and units; an incident by what and where."""

import pytest
from django.urls import reverse

from common.actors import Actor
from incidents import services as incident_services
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from sos import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(client, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    return client


def test_the_sos_list_shows_phone_last_position_and_assigned_unit(admin_browser, dispatcher, unit_a):
    sos, _ = services.sos_create(name="Asha", sos_type=0, latitude=22.57261, longitude=88.36389, phone="+91 98300 11111",
                                 accuracy_m=12)
    services.sos_assign(sos_id=sos.pk, officer_name="Rao", unit_number="UNIT-A", actor=Actor(user=dispatcher))

    page = admin_browser.get(reverse("admin:sos_sos_changelist")).content.decode()

    assert "+91 98300 11111" in page
    assert "22.57261, 88.36389 ±12 m" in page
    assert "<td class=\"field-assigned_units\">UNIT-A</td>" in page


def test_the_incident_list_starts_with_what_happened_where(admin_browser, device, beacon):  # noqa: F811
    incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                          confidence_score=0.9, description="fight")

    page = admin_browser.get(reverse("admin:incidents_incident_changelist")).content.decode()

    assert f"Violence at {beacon.name}" in page
    assert "field-summary" in page
