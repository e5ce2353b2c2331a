"""Cameras on the dispatcher's map: coverage and pin coloured by health, recoloured live when a camera goes down."""

import httpx
import pytest

from cameras.services import camera_create, camera_heartbeat
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_camera_shows_on_the_map_by_health_and_turns_red_when_it_goes_down(
    dashboard_for, dispatcher, device, beacon, live_server  # noqa: F811
):
    camera_create(camera_id="library-entrance", name="Library entrance", device=device, beacon=beacon,
                  latitude=beacon.latitude, longitude=beacon.longitude, heading_deg=0, fov_deg=90, range_m=40)
    camera_heartbeat(device=device, reports=[{"camera_id": "library-entrance", "state": "ok"}])
    dashboard = dashboard_for(dispatcher)

    dashboard.wait_for_selector(".nk-pin-camera.health-ok[data-id='library-entrance']")
    assert dashboard.locator("path.nk-coverage.health-ok").count() == 1

    answer = httpx.post(f"{live_server.url}/api/devices/heartbeat/", headers={"Authorization": f"Device {device.raw_key}"},
                        json={"cameras": [{"camera_id": "library-entrance", "state": "down"}]}, timeout=10)
    assert answer.status_code == 200
    dashboard.wait_for_selector(".nk-pin-camera.health-offline[data-id='library-entrance']")
    dashboard.wait_for_selector("path.nk-coverage.health-offline", state="attached")  # tiny at city zoom
    # The camera_offline incident is listed like any other.
    dashboard.wait_for_selector("#incident-list li:has-text('camera_offline'), #incident-list li:has-text('Camera')")
