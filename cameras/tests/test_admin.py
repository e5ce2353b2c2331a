"""Camera admin: an admin registers a camera with a computed view, and a bad coverage is refused on the form."""

import pytest
from django.urls import reverse

from cameras.models import Camera
from naarikavach.testing import PASSWORD


@pytest.fixture
def admin_client(client, admin_user):
    assert client.login(username=admin_user.username, password=PASSWORD)
    return client


def form(device, beacon, **change):
    return {"camera_id": "gate-2", "name": "Gate 2", "device": device.pk, "beacon": beacon.pk, "enabled": "on",
            "latitude": "22.5726", "longitude": "88.3639", "heading_deg": "90", "fov_deg": "60", "range_m": "25",
            "coverage": "[]", **change}


def test_an_admin_adds_a_camera_and_sees_the_coverage_computed(admin_client, device, beacon):
    response = admin_client.post(reverse("admin:cameras_camera_add"), form(device, beacon))
    assert response.status_code == 302, response.content.decode()[:2000]
    camera = Camera.objects.get(camera_id="gate-2")
    page = admin_client.get(reverse("admin:cameras_camera_change", args=[camera.pk])).content.decode()
    assert "computed" in page and f"[{camera.latitude:.6f}, {camera.longitude:.6f}]" in page


@pytest.mark.parametrize("change, message", [
    ({"coverage": "[[1, 2]]"}, "at least three"), ({"heading_deg": "400"}, "clockwise"),
    ({"fov_deg": ""}, "together"), ({"latitude": "95"}, "between -90 and 90"),
])
def test_a_bad_view_or_coverage_is_refused_on_the_form(admin_client, device, beacon, change, message):
    response = admin_client.post(reverse("admin:cameras_camera_add"), form(device, beacon, **change))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Camera.objects.exists()


def test_the_map_previews_the_view_computed_from_heading_field_of_view_and_range(admin_client):
    url = reverse("admin:cameras_camera_coverage_preview")
    sector = admin_client.get(url, {"latitude": "22.5726", "longitude": "88.3639", "heading_deg": "0",
                                    "fov_deg": "90", "range_m": "50"}).json()["coverage"]
    assert sector[0] == [22.5726, 88.3639] and len(sector) >= 4
    # Every far corner lies about 50 m north-ish of the camera (within the 90° view).
    assert all(22.5726 < lat < 22.5726 + 0.0005 for lat, _ in sector[1:])


@pytest.mark.parametrize("query", [{"latitude": "x", "longitude": "1"}, {"latitude": "95", "longitude": "1"},
                                   {"latitude": "1", "longitude": "1", "heading_deg": "nan", "fov_deg": "20"}])
def test_a_bad_preview_query_is_a_clear_400(admin_client, query):
    response = admin_client.get(reverse("admin:cameras_camera_coverage_preview"), query)
    assert response.status_code == 400 and response.json()["fields"]


def test_the_preview_is_for_admins_only(client, dispatcher):
    client.force_login(dispatcher)
    response = client.get(reverse("admin:cameras_camera_coverage_preview"), {"latitude": "1", "longitude": "1"})
    assert response.status_code in (302, 403)


def test_the_coverage_field_carries_its_map_editor(admin_client):
    page = admin_client.get(reverse("admin:cameras_camera_add")).content.decode()
    assert 'class="coverage-editor"' in page and "cameras/coverage-widget.js" in page and "leaflet.js" in page
