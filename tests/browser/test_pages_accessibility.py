"""axe-core finds no serious or critical WCAG 2.2 AA violation on the dashboard's other pages, with data on them:
the camera list (healthy and offline cameras, a watched SOS, a snapshot shown) and the response-time report (its
tables and chart), in both themes."""

import httpx
import pytest

from cameras.services import camera_create
from incidents import services as incident_services
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from sos.models import SOS
from sos.services import sos_create
from tests.browser.conftest import sign_in
from tests.browser.test_cameras_page import frame_jpeg, heartbeat, worker_answers_snapshot
from tests.browser.test_console_accessibility import serious_violations
from tests.browser.test_reports_page import REPORT_DAY, day_of_alerts  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def signed_in(pages, user, scheme, **context_options):
    # bypass_csp: axe is injected as a script by the test, which the page's Content-Security-Policy would refuse.
    page = pages("/dashboard/login/", viewport={"width": 1280, "height": 900}, color_scheme=scheme, bypass_csp=True,
                 **context_options)
    sign_in(page, user)
    page.wait_for_url("**/dashboard/")
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_violations_on_the_camera_list_with_cameras_and_a_snapshot(
    pages, dispatcher, device, beacon, live_server, scheme  # noqa: F811
):
    camera_create(camera_id="library-entrance", name="Library entrance", device=device, beacon=beacon,
                  latitude=beacon.latitude, longitude=beacon.longitude, range_m=40)
    other = incident_services.beacon_create(beacon_id="hostel-gate", name="Hostel gate", latitude=22.57,
                                            longitude=88.36)
    other_device, other_key = incident_services.device_create(device_id="CAM-HOSTEL", beacon=other)
    camera_create(camera_id="hostel-gate", name="Hostel gate", device=other_device, beacon=other,
                  latitude=22.57, longitude=88.36, range_m=30)
    heartbeat(live_server, device, fps=2.5, dropped_frames=3)
    httpx.post(f"{live_server.url}/api/devices/heartbeat/", headers={"Authorization": f"Device {other_key}"},
               json={"cameras": [{"camera_id": "hostel-gate", "state": "down"}]}, timeout=10).raise_for_status()
    sos_create(name="Asha", sos_type=SOS.Type.EMERGENCY, latitude=beacon.latitude, longitude=beacon.longitude,
               accuracy_m=10)
    page = signed_in(pages, dispatcher, scheme)
    page.goto("/dashboard/cameras/")
    page.wait_for_selector("body.page-cameras[data-ready=true]")
    found = {"list": serious_violations(page)}

    page.click("tr.camera[data-camera-id='library-entrance'] button.snapshot")
    page.wait_for_selector(".snapshot-status[data-state=pending]")
    snapshot_id = worker_answers_snapshot(live_server, device, frame_jpeg())
    image = page.wait_for_selector(f"tr.snapshot-row img[data-snapshot-id='{snapshot_id}']")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
    found["with a snapshot"] = serious_violations(page)

    assert found == {state: [] for state in found}


# In Hindi the figures' tables are wider than the page and scroll inside their panels.
@pytest.mark.parametrize(("scheme", "language"), [("light", "en"), ("dark", "en"), ("light", "hi")])
def test_no_serious_violations_on_the_report_with_its_figures(pages, dispatcher, day_of_alerts, scheme,  # noqa: F811
                                                              language):
    page = signed_in(pages, dispatcher, scheme, locale=language, extra_http_headers={"Accept-Language": language})
    page.goto("/dashboard/reports/")
    page.wait_for_selector("body[data-ready=true]")
    found = {"empty range": serious_violations(page)}

    page.fill("#from", REPORT_DAY)
    page.fill("#to", REPORT_DAY)
    page.click("#range button[type=submit]")
    page.wait_for_selector("#by-source tr[data-group='camera']")
    page.wait_for_selector("body[data-ready=true]")
    found["figures"] = serious_violations(page)

    assert found == {state: [] for state in found}
