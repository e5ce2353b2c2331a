"""Every migration runs forward over tables that hold data, on SQLite and PostgreSQL, and keeps that data."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from common.actors import Actor
from sos import services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

OUR_APPS = ("accounts", "sos", "incidents", "realtime")


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def first_migrations():
    executor = MigrationExecutor(connection)
    return [(app, "0001_initial") for app in OUR_APPS if (app, "0001_initial") in executor.loader.graph.nodes]


def latest_migrations():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def seed_at_the_first_migrations(apps) -> dict:
    """A small platform's worth of rows, written with the models as the first migrations left them."""
    now = timezone.now()
    User, Unit = apps.get_model("accounts", "User"), apps.get_model("accounts", "Unit")
    SOS, LocationUpdate = apps.get_model("sos", "SOS"), apps.get_model("sos", "LocationUpdate")
    OfficerAssignment, SOSAuditEntry = apps.get_model("sos", "OfficerAssignment"), apps.get_model("sos", "SOSAuditEntry")
    Beacon, Device = apps.get_model("incidents", "Beacon"), apps.get_model("incidents", "Device")
    AIEvent, Incident = apps.get_model("incidents", "AIEvent"), apps.get_model("incidents", "Incident")
    IncidentImage = apps.get_model("incidents", "IncidentImage")
    IncidentAuditEntry = apps.get_model("incidents", "IncidentAuditEntry")
    AlertDelivery = apps.get_model("incidents", "AlertDelivery")
    OutboxEvent = apps.get_model("realtime", "OutboxEvent")

    unit = Unit.objects.create(unit_number="PCR-9")
    dispatcher = User.objects.create(username="control", role="dispatcher", password="!")
    User.objects.create(username="rao", role="officer", unit=unit, password="!")
    sos = SOS.objects.create(name="Asha", access_token_hash="0" * 64, initial_latitude=12.97, initial_longitude=77.59,
                             last_latitude=12.97, last_longitude=77.59, phone="+91 90000 00000")
    LocationUpdate.objects.create(sos_request=sos, latitude=12.97, longitude=77.59, recorded_at=now)
    OfficerAssignment.objects.create(sos_request=sos, officer_name="Rao", unit=unit, assigned_by=dispatcher)
    SOSAuditEntry.objects.create(sos_request=sos, action="created", to_status="active", actor_label="sos-owner-token")
    beacon = Beacon.objects.create(beacon_id="LIB-01", name="Library")
    device = Device.objects.create(device_id="CAM-01", beacon=beacon, api_key_hash="1" * 64)
    ai_event = AIEvent.objects.create(kind="violence", confidence_score=0.9, threshold=0.6, description="fight",
                                      outcome="incident_created", beacon=beacon, device=device)
    incident = Incident.objects.create(kind="violence", priority="Critical", beacon=beacon, first_signal_at=now,
                                       last_signal_at=now)
    IncidentImage.objects.create(ai_event=ai_event, incident=incident, image="incidents/x.jpg", sha256="2" * 64,
                                 content_type="image/jpeg", size_bytes=10)
    IncidentAuditEntry.objects.create(incident=incident, action="created", to_status="CREATED", actor_label="device:CAM-01")
    AlertDelivery.objects.create(incident=incident, event="incident_created", channel="email", target="a@example.org",
                                 payload={}, next_attempt_at=now)
    OutboxEvent.objects.create(event="new_sos", rooms=["sos_channel"], payload={"sos_id": sos.pk})
    return {"sos_id": sos.pk, "incident_id": incident.pk}


def test_the_migrations_run_forward_over_data_and_keep_it():
    from accounts.models import User
    from incidents.models import AlertDelivery, Incident, IncidentImage
    from realtime.models import OutboxEvent
    from sos.models import SOS, SOSAuditEntry

    seeded = seed_at_the_first_migrations(migrate(first_migrations()))
    try:
        migrate(latest_migrations())

        sos = SOS.objects.get(pk=seeded["sos_id"])
        assert (sos.name, sos.phone, sos.locations.count(), sos.assignments.count()) == ("Asha", "+91 90000 00000", 1, 1)
        assert list(SOSAuditEntry.objects.values_list("action", flat=True)) == ["created"]
        incident = Incident.objects.get(pk=seeded["incident_id"])
        assert (incident.kind, IncidentImage.objects.count(), AlertDelivery.objects.count()) == ("violence", 1, 1)
        assert OutboxEvent.objects.count() == 1
        # The migrated rows work with today's services.
        dispatcher = User.objects.get(username="control")
        services.sos_acknowledge(sos_id=sos.pk, actor=Actor(user=dispatcher))
        assert SOS.objects.get(pk=sos.pk).status == "acknowledged"
    finally:
        migrate(latest_migrations())
