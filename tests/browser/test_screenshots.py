"""The README's screenshots, taken from a realistic shift at 1920×1080; `UPDATE_SCREENSHOTS=1` writes them into docs/:
the console (light and dark), the citizen page, the camera list and the response-time report."""

import os
import random
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from cameras.services import camera_create
from common.actors import Actor
from incidents import services as incident_services
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from naarikavach.testing import make_staff
from response.tests.test_response_times import incident_with, sos_with
from sos import services
from sos.models import SOS
from tests.browser.conftest import sign_in
from tests.browser.test_cameras_page import heartbeat, worker_answers_snapshot
from tests.browser.test_incidents_on_dashboard import camera_frame, report_violence
from tests.browser.test_reports_page import REPORT_DAY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parents[2] / "docs"
FULL_HD = {"width": 1920, "height": 1080}
KOLKATA = (22.5726, 88.3639)
NAMES = ["Priya", "Meera", "Ananya", "Ritika", "Sneha", "Kavya", "Pooja", "Nandini", "Ishita", "Tanvi", "Riya",
         "Shreya", "Aditi", "Diya", "Neha", "Sana", "Farah", "Lakshmi", "Moumita", "Payel", "Rupa", "Tania"]
PLACES = [("Sealdah station", 22.5678, 88.3707), ("Park Street crossing", 22.5530, 88.3520),
          ("College Street", 22.5753, 88.3630), ("Howrah bridge ramp", 22.5851, 88.3468),
          ("New Market gate 2", 22.5602, 88.3524)]


def _out(tmp_path) -> Path:
    return DOCS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path


def _shift(dispatcher, officers):
    """A shift under way: six units on patrol, twenty-two open SOS alerts with trails (waiting, seen, dispatched,
    one without a position yet), incidents from four cameras, and a few alerts closed in the last hour."""
    rng = random.Random(14)
    control = Actor(user=dispatcher)
    for officer in officers:
        lat, lng = KOLKATA[0] + rng.uniform(-0.03, 0.03), KOLKATA[1] + rng.uniform(-0.03, 0.03)
        services.unit_location_update(unit_number=officer.unit.unit_number, latitude=lat, longitude=lng,
                                      actor=Actor(user=officer))
    for n, name in enumerate(NAMES):
        pending = n == 5
        lat, lng = KOLKATA[0] + rng.uniform(-0.035, 0.035), KOLKATA[1] + rng.uniform(-0.035, 0.035)
        sos, token = services.sos_create(name=name, sos_type=0 if n % 3 else 1,
                                         latitude=None if pending else lat, longitude=None if pending else lng,
                                         phone=f"+91 98300 {10000 + n * 37}")
        if not pending:
            heading = rng.uniform(0, 6.28)
            for step in range(1, rng.randint(3, 8)):
                services.sos_location_add(sos_id=sos.pk, latitude=lat + step * 0.0004 * rng.choice([1, 1, 0.6]),
                                          longitude=lng + step * 0.0004 * heading / 3,
                                          accuracy_m=rng.choice([6, 9, 15]),
                                          actor=Actor.from_credentials(sos_token=token))
        SOS.objects.filter(pk=sos.pk).update(created_at=timezone.now() - timedelta(seconds=rng.randint(20, 2700)))
        if n >= 8 and n % 2 == 0:
            services.sos_acknowledge(sos_id=sos.pk, actor=control)
        if n >= 14 and n % 4 == 0:
            officer = officers[2 + n % 4]
            services.sos_assign(sos_id=sos.pk, officer_name=officer.username, unit_number=officer.unit.unit_number,
                                actor=control)
    for n in range(3):
        sos, _ = services.sos_create(name=f"Closed {n}", sos_type=0, latitude=KOLKATA[0] + n * 0.004,
                                     longitude=KOLKATA[1])
        services.sos_resolve(sos_id=sos.pk, actor=control, note=["Found safe at home", "Escorted to the station",
                                                                 "False alarm: pressed by a child"][n])
    for n, (name, lat, lng) in enumerate(PLACES[:4]):
        place = incident_services.beacon_create(beacon_id=f"shift-{n}", name=name, latitude=lat, longitude=lng)
        camera_device, _ = incident_services.device_create(device_id=f"CAM-SHIFT-{n}", beacon=place)
        incident_services.ai_detection_report(kind=["violence", "scream", "violence", "scream"][n],
                                              device=camera_device, beacon_id=place.beacon_id,
                                              confidence_score=0.8 + n * 0.04,
                                              description="Detected by the camera at the entrance")


def test_screenshots_of_the_dashboard_and_the_citizen_page(
    pages, citizen_page, dispatcher, officer_a, officer_b, device, live_server, tmp_path  # noqa: F811
):
    out = _out(tmp_path)
    officer_a.first_name, officer_a.last_name = "Inspector", "Rao"
    officer_a.save(update_fields=["first_name", "last_name"])
    officers = [officer_a, officer_b] + [make_staff(f"pcr{n}", "officer", f"PCR-{n}") for n in range(3, 7)]
    _shift(dispatcher, officers)
    report_violence(live_server.url, device, camera_frame())

    dashboard = pages("/dashboard/login/", viewport=FULL_HD)
    sign_in(dashboard, dispatcher)
    dashboard.wait_for_selector("body[data-ready=true]")
    dashboard.wait_for_selector("#connection[data-state=online]")
    phone = citizen_page(latitude=22.5746, longitude=88.3664)
    phone.click(".about-me summary")
    phone.fill("#name", "Asha")
    phone.click("#sos-button")
    phone.wait_for_selector("main[data-state=active]")
    sos_id = phone.evaluate("JSON.parse(localStorage.getItem('naarikavach.sos')).sos_id")

    dashboard.wait_for_selector(f"#queue li[data-id='{sos_id}']", timeout=2000)
    dashboard.click(f"#queue li[data-id='{sos_id}']")
    dashboard.wait_for_selector(f"#detail [data-sos-id='{sos_id}']")
    dashboard.select_option("#detail select[name=unit_number]", officer_a.unit.unit_number)
    dashboard.select_option("#detail select[name=officer_name]", "Inspector Rao")
    dashboard.click("#detail form.assign button[type=submit]")
    dashboard.wait_for_selector("#detail .assignment")
    phone.wait_for_selector("#assignment:not([hidden])", timeout=3000)

    assert "Inspector Rao" in phone.inner_text("#assignment")
    # The shift's SOS alerts and hers, with the cameras' incidents: one queue.
    assert dashboard.locator("#queue li[data-kind=sos]").count() == len(NAMES) + 1
    assert dashboard.locator("#queue li[data-kind=incident]").count() == 5
    # Animations stopped for the picture: the flashing banner at rest, the map's pan and zoom finished.
    dashboard.screenshot(path=str(out / "dashboard.png"), animations="disabled")
    # The night shift's view of the same scene.
    dashboard.emulate_media(color_scheme="dark")
    dashboard.wait_for_function(
        "() => getComputedStyle(document.querySelector('.sidebar')).backgroundColor === 'rgb(27, 30, 35)'")
    dashboard.screenshot(path=str(out / "dashboard-dark.png"), animations="disabled")
    phone.screenshot(path=str(out / "citizen-sos.png"), animations="disabled")
    assert (out / "dashboard.png").stat().st_size > 20_000
    assert httpx.get(f"{live_server.url}/sos/", timeout=5).status_code == 200


def test_screenshot_of_the_camera_list(pages, dispatcher, device, beacon, live_server, tmp_path):  # noqa: F811
    out = _out(tmp_path)
    camera_create(camera_id="library-entrance", name="Library entrance", device=device, beacon=beacon,
                  latitude=beacon.latitude, longitude=beacon.longitude, range_m=40)
    keys = {}
    for n, (name, lat, lng) in enumerate(PLACES):
        place = incident_services.beacon_create(beacon_id=f"place-{n}", name=name, latitude=lat, longitude=lng)
        other, keys[n] = incident_services.device_create(device_id=f"CAM-{n + 2:02d}", beacon=place)
        camera_create(camera_id=f"cam-{n}", name=name, device=other, beacon=place, latitude=lat, longitude=lng,
                      range_m=30 + 10 * n, heading_deg=45 * n, fov_deg=90)
    heartbeat(live_server, device, fps=2.5, dropped_frames=3, model_latency_ms=41.5)
    for n, state in enumerate(["ok", "ok", "down", "reconnecting"]):  # the fifth never reported
        httpx.post(f"{live_server.url}/api/devices/heartbeat/", headers={"Authorization": f"Device {keys[n]}"},
                   json={"cameras": [{"camera_id": f"cam-{n}", "state": state, "fps": 2.0 if state == "ok" else 0.0,
                                      "dropped_frames": 12 * n}]}, timeout=10).raise_for_status()
    services.sos_create(name="Asha", sos_type=0, latitude=beacon.latitude, longitude=beacon.longitude, accuracy_m=10)
    page = pages("/dashboard/login/", viewport=FULL_HD)
    sign_in(page, dispatcher)
    page.wait_for_url("**/dashboard/")
    page.goto("/dashboard/cameras/")
    page.wait_for_selector("body.page-cameras[data-ready=true]")

    page.click("tr.camera[data-camera-id='library-entrance'] button.snapshot")
    snapshot_id = worker_answers_snapshot(live_server, device, camera_frame(640, 360))
    image = page.wait_for_selector(f"tr.snapshot-row img[data-snapshot-id='{snapshot_id}']")
    page.wait_for_function("img => img.complete && img.naturalWidth === 640", arg=image)

    page.screenshot(path=str(out / "cameras.png"), animations="disabled")
    assert page.locator("tr.camera").count() == 6


def test_screenshot_of_the_response_time_report(pages, dispatcher, beacon, settings, tmp_path):  # noqa: F811
    out = _out(tmp_path)
    settings.RESPONSE_TARGET_ACKNOWLEDGE_SECONDS, settings.RESPONSE_TARGET_ON_SCENE_SECONDS = 60, 900
    rng = random.Random(7)
    for _ in range(14):
        acknowledged = rng.randint(8, 150)
        sos_with({"acknowledged": acknowledged, "assigned": acknowledged + rng.randint(20, 200),
                  "on_scene": acknowledged + rng.randint(300, 1300), "resolved": 2400})
    sos_with({"cancelled": 20}, sos_type=SOS.Type.ALERT)
    for kind in ("violence", "scream", "violence", "scream", "violence"):
        acknowledged = rng.randint(15, 240)
        incident_with(beacon, kind, {"acknowledged": acknowledged, "assigned": acknowledged + 60,
                                     "started": acknowledged + rng.randint(200, 900), "resolved": 1800})
    page = pages("/dashboard/login/", viewport=FULL_HD)
    sign_in(page, dispatcher)
    page.wait_for_url("**/dashboard/")
    page.goto("/dashboard/reports/")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#from", REPORT_DAY)
    page.fill("#to", REPORT_DAY)
    page.click("#range button[type=submit]")
    page.wait_for_selector("#by-source tr[data-group='camera']")
    page.wait_for_selector("body[data-ready=true]")

    page.screenshot(path=str(out / "reports.png"), animations="disabled", full_page=True)
    assert "20 alerts raised" in page.inner_text("#report-status")
