"""Unit status lifecycle (officers report it, dispatchers override, off-duty units are not sent) and nearest units."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Unit, UnitStatusChange
from naarikavach import testing
from realtime.models import OutboxEvent
from sos.models import SOS
from sos.tests.conftest import raise_sos


def assign(client, sos_id, unit_number, officer="Inspector Rao"):
    return client.post(reverse("sos-assign-officer"),
                       {"sos_request": sos_id, "officer_name": officer, "unit_number": unit_number}, format="json")


def set_status(client, unit_number, status):
    return client.post(reverse("unit-status", args=[unit_number]), {"status": status}, format="json")


def test_an_officer_walks_the_unit_through_its_lifecycle_and_the_sos_follows(client_for, dispatcher, officer_a, unit_a):
    sos = raise_sos().sos
    officer = client_for(officer_a)

    assert assign(client_for(dispatcher), sos.pk, unit_a.unit_number).status_code == 201
    assert set_status(officer, unit_a.unit_number, "en_route").json() == {"unit_number": "UNIT-A", "status": "en_route"}
    assert set_status(officer, unit_a.unit_number, "on_scene").status_code == 200
    on_scene = SOS.objects.get(pk=sos.pk).status
    client_for(dispatcher).post(reverse("sos-resolve", args=[sos.pk]), {"note": "Safe"}, format="json")

    unit_a.refresh_from_db()
    assert on_scene == SOS.Status.ON_SCENE and unit_a.status == Unit.Status.AVAILABLE
    changes = UnitStatusChange.objects.filter(unit=unit_a).values_list("from_status", "to_status", "actor_label")
    assert list(changes) == [
        ("available", "dispatched", "dispatcher:dispatch"), ("dispatched", "en_route", "officer:officer_a"),
        ("en_route", "on_scene", "officer:officer_a"), ("on_scene", "available", "dispatcher:dispatch"),
    ]
    assert [e.payload["status"] for e in OutboxEvent.objects.filter(event="unit_status_changed").order_by("id")] == [
        "dispatched", "en_route", "on_scene", "available",
    ]
    assert list(sos.audit_trail.values_list("action", flat=True)) == ["created", "assigned", "on_scene", "resolved"]
    assert OutboxEvent.objects.filter(event="sos_updated", payload__action="on_scene").exists()


def test_an_officer_cannot_skip_the_lifecycle_or_set_another_units_status(client_for, officer_a, officer_b, unit_a,
                                                                           citizen):
    skipped = set_status(client_for(officer_a), unit_a.unit_number, "on_scene")
    other = set_status(client_for(officer_b), unit_a.unit_number, "off_duty")
    not_staff = set_status(client_for(citizen), unit_a.unit_number, "off_duty")
    bad = set_status(client_for(officer_a), unit_a.unit_number, "asleep")
    missing = set_status(client_for(officer_a), "NO-SUCH-UNIT", "off_duty")

    assert (skipped.status_code, skipped.json()["code"]) == (409, "invalid_unit_transition")
    assert (other.status_code, not_staff.status_code, bad.status_code, missing.status_code) == (403, 403, 400, 404)
    unit_a.refresh_from_db()
    assert unit_a.status == Unit.Status.AVAILABLE and not UnitStatusChange.objects.exists()


def test_a_dispatcher_may_override_the_lifecycle_and_the_override_is_recorded(client_for, dispatcher, unit_a):
    response = set_status(client_for(dispatcher), unit_a.unit_number, "on_scene")

    assert response.status_code == 200
    change = UnitStatusChange.objects.get()
    assert (change.to_status, change.overridden, change.reason) == ("on_scene", True, "override")


def test_assigning_an_off_duty_unit_is_refused_and_changes_nothing(client_for, dispatcher, officer_a, unit_a):
    sos = raise_sos().sos
    assert set_status(client_for(officer_a), unit_a.unit_number, "off_duty").status_code == 200

    refused = assign(client_for(dispatcher), sos.pk, unit_a.unit_number)

    assert (refused.status_code, refused.json()["code"]) == (409, "unit_off_duty")
    assert SOS.objects.get(pk=sos.pk).status == SOS.Status.ACTIVE and not sos.assignments.exists()


def test_an_incident_cannot_be_given_to_an_officer_whose_unit_is_off_duty(client_for, dispatcher, officer_a, unit_a,
                                                                          device, beacon):
    from incidents import services as incident_services

    incident = incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                                     confidence_score=0.95, description="Fight").incident
    set_status(client_for(officer_a), unit_a.unit_number, "off_duty")

    refused = client_for(dispatcher).post(reverse("incident-assign", args=[incident.pk]),
                                          {"officer": officer_a.username}, format="json")

    assert (refused.status_code, refused.json()["code"]) == (409, "unit_off_duty")


def place(unit: Unit, latitude: float, longitude: float, *, minutes_ago: float = 1, status: str | None = None):
    Unit.objects.filter(pk=unit.pk).update(
        last_latitude=latitude, last_longitude=longitude, last_seen_at=timezone.now() - timedelta(minutes=minutes_ago),
        **({"status": status} if status else {}),
    )


def test_nearest_units_put_available_ones_first_and_ignore_stale_and_off_duty_ones(client_for, dispatcher, settings,
                                                                                     officer_a):
    settings.UNIT_ETA_SPEED_KMH = 30
    sos = raise_sos(latitude=12.9716, longitude=77.5946).sos
    busy_near, free_far = testing.make_unit("UNIT-A"), testing.make_unit("NEAR-FREE")
    stale, off_duty = testing.make_unit("STALE"), testing.make_unit("OFF")
    place(busy_near, 12.9816, 77.5946, status="dispatched")  # 0.01° north: 1.112 km
    place(free_far, 12.9916, 77.5946)  # 0.02° north: 2.224 km
    place(stale, 12.9716, 77.5946, minutes_ago=31)  # right there, but 31 minutes ago
    place(off_duty, 12.9716, 77.5947, status="off_duty")

    response = client_for(dispatcher).get(reverse("sos-nearest-units", args=[sos.pk]))

    assert response.status_code == 200
    assert [(u["unit_number"], u["status"], u["distance_km"], u["eta_minutes"], u["officers"])
            for u in response.json()] == [
        ("NEAR-FREE", "available", 2.224, 4.4, []),
        ("UNIT-A", "dispatched", 1.112, 2.2, ["officer_a"]),
    ]


def test_nearest_units_for_an_incident_and_the_errors(client_for, dispatcher, citizen, device, beacon):
    from incidents import services as incident_services

    incident = incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                                     confidence_score=0.95, description="Fight").incident
    place(testing.make_unit("UNIT-C"), beacon.latitude, beacon.longitude)
    staff = client_for(dispatcher)

    found = staff.get(reverse("incident-nearest-units", args=[incident.pk]))
    refused = client_for(citizen).get(reverse("incident-nearest-units", args=[incident.pk]))
    missing = staff.get(reverse("sos-nearest-units", args=[999999]))
    bad_limit = staff.get(reverse("incident-nearest-units", args=[incident.pk]), {"limit": "0"})

    assert [(u["unit_number"], u["distance_km"]) for u in found.json()] == [("UNIT-C", 0.0)]
    assert (refused.status_code, missing.status_code, bad_limit.status_code) == (403, 404, 400)


@pytest.mark.parametrize("field", ["status"])
def test_a_units_status_is_not_editable_in_admin(client_for, admin_user, unit_a, field):
    from django.test import Client

    admin = Client()
    admin.force_login(admin_user)
    page = admin.get(reverse("admin:accounts_unit_change", args=[unit_a.pk])).content.decode()

    assert f'name="{field}"' not in page
