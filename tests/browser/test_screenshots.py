"""The README's screenshots, taken from a realistic scene; `UPDATE_SCREENSHOTS=1` writes them into docs/."""

import os
from pathlib import Path

import httpx
import pytest

from common.actors import Actor
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from sos import services
from tests.browser.test_incidents_on_dashboard import camera_frame, report_violence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _scene(dispatcher, officer_a, officer_b):
    """Two units on patrol, an SOS moving along a street, another already dispatched."""
    for officer, (lat, lng) in ((officer_a, (22.5790, 88.3560)), (officer_b, (22.5655, 88.3745))):
        services.unit_location_update(unit_number=officer.unit.unit_number, latitude=lat, longitude=lng,
                                      actor=Actor(user=officer))
    moving, moving_token = services.sos_create(name="Priya", sos_type=0, latitude=22.5702, longitude=88.3512, phone="+91 98300 00000")
    for step in range(1, 5):
        services.sos_location_add(sos_id=moving.pk, latitude=22.5702 + step * 0.0011, longitude=88.3512 + step * 0.0016,
                                  actor=Actor.from_credentials(sos_token=moving_token), accuracy_m=9)
    dispatched, _ = services.sos_create(name="Meera", sos_type=1, latitude=22.5618, longitude=88.3702)
    services.sos_assign(sos_id=dispatched.pk, officer_name="SI Banerjee", unit_number=officer_b.unit.unit_number,
                        actor=Actor(user=dispatcher))


def test_screenshots_of_the_dashboard_and_the_citizen_page(
    dashboard_for, citizen_page, dispatcher, officer_a, officer_b, device, live_server, tmp_path
):
    out = DOCS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    officer_a.first_name, officer_a.last_name = "Inspector", "Rao"
    officer_a.save(update_fields=["first_name", "last_name"])
    _scene(dispatcher, officer_a, officer_b)
    report_violence(live_server.url, device, camera_frame())

    dashboard = dashboard_for(dispatcher)
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
    # The moving SOS, the dispatched one and hers, with the camera's incident: one queue.
    assert dashboard.locator("#queue li[data-kind=sos]").count() == 3
    assert dashboard.locator("#queue li[data-kind=incident]").count() == 1
    # Animations stopped for the picture: the flashing banner at rest, the map's pan and zoom finished.
    dashboard.screenshot(path=str(out / "dashboard.png"), animations="disabled")
    # The night shift's view of the same scene.
    dashboard.emulate_media(color_scheme="dark")
    dashboard.wait_for_function("() => getComputedStyle(document.querySelector('.sidebar')).backgroundColor === 'rgb(27, 30, 35)'")
    dashboard.screenshot(path=str(out / "dashboard-dark.png"), animations="disabled")
    phone.screenshot(path=str(out / "citizen-sos.png"), animations="disabled")
    assert (out / "dashboard.png").stat().st_size > 20_000
    assert httpx.get(f"{live_server.url}/sos/", timeout=5).status_code == 200
