"""Incident personas: two beacons, a camera bound to one of them, a roaming device; shared with tests/."""

import pytest
from rest_framework.test import APIClient

from incidents import services


def device_client_for(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {raw_key}")
    return client


@pytest.fixture(autouse=True)
def _private_evidence_dir(settings, tmp_path):
    """Evidence of each test in its own directory; alerts only where a test configures them."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ALERT_EMAIL_RECIPIENTS = []
    settings.ALERT_WEBHOOK_URLS = []


@pytest.fixture
def beacon(db):
    return services.beacon_create(
        beacon_id="ab907856-3412-3412-3412-341278563412", name="Library Entrance", building="Central Library",
        floor="G", latitude=22.5726, longitude=88.3639,
    )


@pytest.fixture
def other_beacon(db):
    return services.beacon_create(beacon_id="safe:uuid:402:402", name="Hostel Block 4", latitude=22.57, longitude=88.36)


@pytest.fixture
def device(db, beacon):
    """CAM-01, bound to `beacon`; `device.raw_key` is its API key."""
    device, raw_key = services.device_create(device_id="CAM-01", beacon=beacon, name="Library camera")
    device.raw_key = raw_key
    return device


@pytest.fixture
def roaming_device(db):
    """A device with no beacon of its own: it may report for any active beacon."""
    device, raw_key = services.device_create(device_id="AI-VISION-SURVEILLANCE-01", kind="other")
    device.raw_key = raw_key
    return device


@pytest.fixture
def device_client(device):
    return device_client_for(device.raw_key)


@pytest.fixture
def roaming_client(roaming_device):
    return device_client_for(roaming_device.raw_key)
