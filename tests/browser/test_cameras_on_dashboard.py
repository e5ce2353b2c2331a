"""Cameras on the dispatcher's console: on the map by health (recoloured live), and on an SOS with its pre-roll."""

import io

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cameras.services import camera_create, camera_heartbeat, camera_sos_evidence_add
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from sos.models import SOS
from sos.services import sos_create

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
    dashboard.wait_for_selector("#queue li:has-text('camera_offline'), #queue li:has-text('Camera')")


def test_an_sos_in_view_of_a_camera_shows_it_and_its_pre_roll_frames(dashboard_for, dispatcher, device, beacon):  # noqa: F811
    camera_create(camera_id="library-entrance", name="Library entrance", device=device, beacon=beacon,
                  latitude=beacon.latitude, longitude=beacon.longitude, range_m=40)
    camera_heartbeat(device=device, reports=[{"camera_id": "library-entrance", "state": "ok"}])
    sos, _ = sos_create(name="Asha", sos_type=SOS.Type.EMERGENCY, latitude=beacon.latitude,
                        longitude=beacon.longitude, accuracy_m=10)
    data = io.BytesIO()
    Image.new("RGB", (96, 72), (120, 40, 40)).save(data, "JPEG")
    camera_sos_evidence_add(device=device, camera_id="library-entrance", sos_id=sos.pk,
                            images=[SimpleUploadedFile("f.jpg", data.getvalue(), content_type="image/jpeg")])
    dashboard = dashboard_for(dispatcher)

    dashboard.click(f"#queue li[data-id='{sos.pk}']")
    dashboard.wait_for_selector("#detail li.camera.health-ok[data-camera-id='library-entrance']")
    image = dashboard.wait_for_selector("#detail .camera-evidence img")
    dashboard.wait_for_function("img => img.complete && img.naturalWidth === 96", arg=image)
