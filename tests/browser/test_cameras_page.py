"""The camera list page: health and figures from heartbeats, live health changes, and a snapshot on request that
travels dispatcher → platform → the worker's heartbeat answer → platform → dispatcher."""

import io
import json

import httpx
import pytest
from PIL import Image

from cameras.services import camera_create
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from sos.models import SOS
from sos.services import sos_create
from tests.test_cameras_e2e import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def heartbeat(live_server, device, state="ok", **figures):  # noqa: F811
    answer = httpx.post(f"{live_server.url}/api/devices/heartbeat/", headers={"Authorization": f"Device {device.raw_key}"},
                        json={"cameras": [{"camera_id": "library-entrance", "state": state, **figures}]}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["cameras"]["library-entrance"]


def worker_answers_snapshot(live_server, device, jpeg: bytes) -> int:
    """The worker's side of a snapshot: the request arrives in a heartbeat answer, the frame goes back by its own
    endpoint. Returns the snapshot's id."""
    answers = []
    assert wait_for(lambda: answers.append(heartbeat(live_server, device)) or answers[-1]["snapshot_requests"], 10)
    (snapshot_id,) = answers[-1]["snapshot_requests"]
    sent = httpx.post(f"{live_server.url}/api/devices/camera-snapshot/",
                      headers={"Authorization": f"Device {device.raw_key}"},
                      data={"details": json.dumps({"camera": "library-entrance", "snapshot_id": snapshot_id})},
                      files=[("images", ("frame.jpg", jpeg, "image/jpeg"))], timeout=10)
    assert sent.status_code == 201, sent.text
    return snapshot_id


def frame_jpeg() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (160, 120), (30, 140, 60)).save(data, "JPEG")
    return data.getvalue()


@pytest.fixture
def camera(device, beacon):  # noqa: F811
    return camera_create(camera_id="library-entrance", name="Library entrance", device=device, beacon=beacon,
                         latitude=beacon.latitude, longitude=beacon.longitude, range_m=40)


def open_page(pages, user, *, link="Cameras", **context_options):
    """The camera list, reached as a dispatcher does: signed in, then the console's navigation link."""
    from tests.browser.conftest import sign_in

    page = pages("/dashboard/login/", viewport={"width": 1280, "height": 800}, **context_options)
    sign_in(page, user)
    page.wait_for_selector("body.page-dashboard")
    page.click(f"nav.topnav a:has-text('{link}')")
    page.wait_for_selector("body.page-cameras[data-ready=true]")
    return page


def test_the_list_shows_health_figures_and_watched_sos_and_turns_red_live(pages, dispatcher, device, beacon, camera,  # noqa: F811
                                                                          live_server):
    heartbeat(live_server, device, fps=2.5, dropped_frames=7)
    sos, _ = sos_create(name="Asha", sos_type=SOS.Type.EMERGENCY, latitude=beacon.latitude,
                        longitude=beacon.longitude, accuracy_m=10)
    page = open_page(pages, dispatcher)

    row = page.locator("tr.camera[data-camera-id='library-entrance']")
    assert row.locator(".health").inner_text() == "ok"
    assert (row.locator(".fps").inner_text(), row.locator(".dropped").inner_text()) == ("2.5", "7")
    assert row.locator(".open-sos").inner_text() == f"#{sos.pk}"
    page.wait_for_selector("#connection[data-state=online]")
    # The relative time ticks on its own, in the element shown (not only when the list is fetched again).
    shown = page.wait_for_selector("time.heartbeat")
    page.wait_for_function("([el, before]) => el.isConnected && /^\\d+s ago$/.test(el.textContent) "
                           "&& el.textContent !== before", arg=[shown, shown.inner_text()])

    heartbeat(live_server, device, state="down")
    page.wait_for_selector("tr.camera.health-offline[data-camera-id='library-entrance'] .health:has-text('offline')")


def test_a_snapshot_asked_on_the_page_comes_back_from_the_worker_through_the_platform(pages, dispatcher, device,  # noqa: F811
                                                                                       camera, live_server):
    heartbeat(live_server, device)
    page = open_page(pages, dispatcher)

    page.click("tr.camera[data-camera-id='library-entrance'] button.snapshot")
    page.wait_for_selector(".snapshot-status[data-state=pending]")
    snapshot_id = worker_answers_snapshot(live_server, device, frame_jpeg())

    image = page.wait_for_selector(f"tr.snapshot-row img[data-snapshot-id='{snapshot_id}']")
    page.wait_for_function("img => img.complete && img.naturalWidth === 160", arg=image)
    assert "faces blurred" in page.inner_text(".snapshot-status[data-state=ready]")


def test_a_snapshot_the_worker_never_sends_ends_with_a_clear_message(pages, dispatcher, device, camera,  # noqa: F811
                                                                      live_server, settings):
    settings.CAMERA_SNAPSHOT_TIMEOUT_SECONDS = 1
    heartbeat(live_server, device)
    page = open_page(pages, dispatcher)

    page.click("tr.camera[data-camera-id='library-entrance'] button.snapshot")
    page.wait_for_selector(".snapshot-status[data-state=failed]:has-text('did not send a picture in time')")


def test_the_camera_list_speaks_hindi_when_asked(pages, dispatcher, device, camera, live_server):  # noqa: F811
    heartbeat(live_server, device)
    # Reached through the shared navigation's link, in Hindi too.
    page = open_page(pages, dispatcher, link="कैमरे", locale="hi-IN", extra_http_headers={"Accept-Language": "hi-IN,hi;q=0.9"})

    assert page.get_attribute("html", "lang") == "hi"
    assert page.inner_text("#camera-table thead").split("\t")[:3] == ["कैमरा", "स्थिति", "आख़िरी हार्टबीट"]
    row = page.locator("tr.camera[data-camera-id='library-entrance']")
    assert row.locator(".health").inner_text() == "ठीक"  # from the script, through the catalogue
    page.wait_for_selector("#connection:has-text('लाइव')")
    page.wait_for_function("() => /^\\d+ सेकंड पहले$/.test(document.querySelector('time.heartbeat').textContent)")
