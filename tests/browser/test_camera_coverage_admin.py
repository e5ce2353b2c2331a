"""Drawing a camera's coverage on the admin's map: clicks become corners, a dragged corner moves, and saving stores
the coordinates under the clicks (checked against Web Mercator worked out here, not by the page's own map)."""

import math

import pytest
from django.urls import reverse

from cameras.models import Camera
from cameras.services import camera_create
from incidents.tests.fixtures import beacon, device  # noqa: F401  (fixtures)
from naarikavach.testing import PASSWORD
from tests.browser.conftest import WAIT_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZOOM = 18  # the editor shows the camera's position at this zoom once it is typed
CAMERA = (22.5726, 88.3639)
ONE_PIXEL_DEG = 360 / (256 * 2**ZOOM)


def world_pixel(lat, lng):
    scale = 256 * 2**ZOOM
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * scale
    return (lng + 180) / 360 * scale, y


def lat_lng(x, y):
    scale = 256 * 2**ZOOM
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / scale)))), x / scale * 360 - 180


def under(box, px, py):
    """The [lat, lng] Leaflet shows at (px, py) of a map of this size centred on the camera."""
    cx, cy = world_pixel(*CAMERA)
    origin_x, origin_y = round(cx - box["width"] / 2), round(cy - box["height"] / 2)  # Leaflet rounds its origin
    return lat_lng(origin_x + px, origin_y + py)


@pytest.fixture
def admin_page(browser, live_server, admin_user, settings):
    settings.MAP_TILE_URL = ""  # closed network: no tiles
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 1800})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    yield page
    context.close()


def map_box(page):
    page.wait_for_selector(".coverage-editor[data-ready=true]")
    page.locator(".coverage-map").scroll_into_view_if_needed()
    return page.locator(".coverage-map").bounding_box()


def test_clicks_and_a_drag_on_the_map_are_saved_as_the_coverage(admin_page, device, beacon):  # noqa: F811
    page = admin_page
    page.goto(reverse("admin:cameras_camera_add"))
    page.fill("#id_camera_id", "gate-2")
    page.fill("#id_name", "Gate 2")
    page.select_option("#id_device", str(device.pk))
    page.select_option("#id_beacon", str(beacon.pk))
    page.fill("#id_latitude", str(CAMERA[0]))
    page.fill("#id_longitude", str(CAMERA[1]))
    box = map_box(page)

    corners = [(200, 100), (420, 120), (380, 300), (180, 280)]
    for px, py in corners:
        page.mouse.click(box["x"] + px, box["y"] + py)
    page.wait_for_selector(".coverage-editor[data-vertices='4']")
    # Drag the third corner 60 px to the right.
    page.mouse.move(box["x"] + 380, box["y"] + 300)
    page.mouse.down()
    for step in range(1, 7):
        page.mouse.move(box["x"] + 380 + 10 * step, box["y"] + 300)
    # Leaflet moves the marker on the next animation frame; let go once it is under the pointer, as a hand would.
    page.wait_for_function(
        "x => [...document.querySelectorAll('.coverage-vertex')].some(el => { const r = el.getBoundingClientRect(); "
        "return Math.abs(r.left + r.width / 2 - x) < 1; })", arg=box["x"] + 440)
    page.mouse.up()
    corners[2] = (440, 300)
    page.wait_for_function("() => JSON.parse(document.querySelector('#id_coverage').value)[2][1] > 0 && "
                           "document.querySelectorAll('.coverage-vertex').length === 4")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success, ul.messagelist li")

    saved = Camera.objects.get(camera_id="gate-2").coverage
    assert len(saved) == 4
    for (lat, lng), (px, py) in zip(saved, corners):
        want_lat, want_lng = under(box, px, py)
        assert abs(lat - want_lat) < 1.5 * ONE_PIXEL_DEG and abs(lng - want_lng) < 1.5 * ONE_PIXEL_DEG, (
            (lat, lng), (want_lat, want_lng))


def test_an_existing_coverage_is_shown_cleared_and_the_computed_view_appears(admin_page, device, beacon):  # noqa: F811
    camera = camera_create(camera_id="gate-3", name="Gate 3", device=device, beacon=beacon, latitude=CAMERA[0],
                           longitude=CAMERA[1], heading_deg=90, fov_deg=60, range_m=25,
                           coverage=[[22.5725, 88.3640], [22.5727, 88.3640], [22.5727, 88.3642]])
    page = admin_page
    page.goto(reverse("admin:cameras_camera_change", args=[camera.pk]))
    map_box(page)
    page.wait_for_selector(".coverage-editor[data-vertices='3']")
    assert page.locator(".coverage-vertex").count() == 3

    page.click(".coverage-clear")
    page.wait_for_selector(".coverage-editor[data-vertices='0']")
    # With nothing drawn, the server's computed sector is drawn (dashed) instead.
    page.wait_for_selector(".coverage-editor:not([data-computed='0'])[data-computed]")
    page.wait_for_selector("path.coverage-computed", state="attached")
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist li")
    camera.refresh_from_db()
    assert camera.coverage == [] and camera.coverage_polygon()[0] == list(CAMERA)
