"""Setting up beacons and devices: management commands, services and the admin; keys are shown once."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from common.errors import Conflict, InvalidInput
from common.tokens import hash_secret
from incidents import services
from incidents.models import Beacon, Device
from incidents.tests.factories import report, upload
from incidents.tests.fixtures import device_client_for
from naarikavach.testing import PASSWORD

VIOLENCE = reverse("ai-violence-detected")


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def printed_key(output: str) -> str:
    return re.search(r"API key \(shown once\): (\S+)", output).group(1)


def test_create_beacon_makes_an_active_beacon(db):
    output = run("create_beacon", "--beacon-id", "safe:uuid:402:402", "--name", "Hostel Block 4",
                 "--latitude", "22.57", "--longitude", "88.36", "--floor", "4")

    beacon = Beacon.objects.get(beacon_id="safe:uuid:402:402")
    assert "Created beacon safe:uuid:402:402" in output
    assert (beacon.name, beacon.floor, beacon.latitude, beacon.is_active) == ("Hostel Block 4", "4", 22.57, True)


def test_create_beacon_refuses_a_duplicate_and_bad_coordinates(beacon):
    with pytest.raises(CommandError, match="already exists"):
        run("create_beacon", "--beacon-id", beacon.beacon_id, "--name", "Again")
    with pytest.raises(CommandError, match="latitude"):
        run("create_beacon", "--beacon-id", "B-2", "--name", "Nowhere", "--latitude", "91", "--longitude", "0")


def test_create_device_prints_a_key_once_that_authenticates_the_device(beacon):
    output = run("create_device", "--device-id", "CAM-01", "--beacon", beacon.beacon_id)

    key = printed_key(output)
    device = Device.objects.get(device_id="CAM-01")
    assert device.beacon == beacon
    assert device.api_key_hash == hash_secret(key) and key not in device.api_key_hash
    response = device_client_for(key).post(VIOLENCE, report(beacon.beacon_id), format="json")
    assert response.status_code == 201


def test_create_device_refuses_an_unknown_beacon(db):
    with pytest.raises(CommandError, match="not found"):
        run("create_device", "--device-id", "CAM-01", "--beacon", "nowhere")
    assert not Device.objects.exists()


def test_rotating_a_device_key_stops_the_old_one(device, beacon):
    output = run("create_device", "--device-id", device.device_id, "--rotate-key")

    new_key = printed_key(output)
    assert device_client_for(device.raw_key).post(VIOLENCE, report(beacon.beacon_id), format="json").status_code == 401
    assert device_client_for(new_key).post(VIOLENCE, report(beacon.beacon_id), format="json").status_code == 201


def test_services_refuse_duplicates_and_bad_ids(beacon, device):
    with pytest.raises(Conflict):
        services.beacon_create(beacon_id=beacon.beacon_id, name="Twin")
    with pytest.raises(Conflict):
        services.device_create(device_id="CAM-01")
    with pytest.raises(InvalidInput) as excinfo:
        services.device_create(device_id="cam 01 with spaces", kind="drone")
    assert set(excinfo.value.fields) == {"device_id", "kind"}


@pytest.fixture
def admin_client_(client, admin_user):
    client.login(username=admin_user.username, password=PASSWORD)
    return client


def test_a_device_added_in_the_admin_gets_a_key_shown_once(admin_client_, beacon):
    response = admin_client_.post(
        reverse("admin:incidents_device_add"),
        {"device_id": "CAM-02", "name": "Gate camera", "kind": "camera", "beacon": beacon.pk, "is_active": "on"},
        follow=True,
    )

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    key = re.search(r"API key for CAM-02 \(shown once, copy it now\): (\S+)", " ".join(messages)).group(1)
    assert Device.objects.get(device_id="CAM-02").key_matches(key)


@pytest.mark.parametrize("model", ["beacon", "device", "aievent", "incident", "alertdelivery"])
def test_the_admin_lists_every_incidents_model(admin_client_, device, beacon, model):
    device_client_for(device.raw_key).post(VIOLENCE, report(beacon.beacon_id), format="json")

    response = admin_client_.get(reverse(f"admin:incidents_{model}_changelist"))

    assert response.status_code == 200


def test_the_admin_incident_page_links_evidence_to_the_authenticated_download(admin_client_, device, beacon):
    device_client_for(device.raw_key).post(VIOLENCE, {**report(beacon.beacon_id), "images": [upload()]},
                                           format="multipart")
    incident = device.ai_events.get().incident
    image = incident.images.get()

    response = admin_client_.get(reverse("admin:incidents_incident_change", args=[incident.pk]))

    assert response.status_code == 200
    assert reverse("incident-image-download", args=[image.pk]) in response.content.decode()
