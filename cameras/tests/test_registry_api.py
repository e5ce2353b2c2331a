"""The camera registry: created through the service, read by responders on the map."""

import pytest

from cameras import services
from common.errors import Conflict, InvalidInput


def test_responders_see_every_camera_with_its_coverage_and_health(client_for, dispatcher, entrance_camera,
                                                                    stairs_camera):
    response = client_for(dispatcher).get("/api/cameras/")
    assert response.status_code == 200
    by_id = {c["camera_id"]: c for c in response.json()["results"]}
    entrance = by_id["library-entrance"]
    assert entrance["health"] == "unknown" and entrance["device_id"] == "CAM-01"
    assert entrance["coverage"][0] == [entrance["latitude"], entrance["longitude"]]  # computed: apex first
    assert by_id["library-stairs"]["coverage"] == stairs_camera.coverage  # drawn: as drawn


def test_the_list_filters_by_health_and_refuses_an_unknown_one(client_for, officer_a, entrance_camera):
    client = client_for(officer_a)
    assert client.get("/api/cameras/?health=offline").json()["results"] == []
    assert [c["camera_id"] for c in client.get("/api/cameras/?health=unknown").json()["results"]] == [
        "library-entrance"]
    assert client.get("/api/cameras/?health=purple").status_code == 400


def test_one_camera_by_id_and_a_missing_one_is_a_json_404(client_for, dispatcher, entrance_camera):
    client = client_for(dispatcher)
    assert client.get("/api/cameras/library-entrance/").json()["name"] == "Library entrance"
    missing = client.get("/api/cameras/nope/")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"


def test_citizens_and_devices_cannot_read_the_registry(client_for, citizen, device_client, entrance_camera):
    assert client_for(citizen).get("/api/cameras/").status_code == 403
    assert device_client.get("/api/cameras/").status_code == 403
    assert client_for(None).get("/api/cameras/").status_code in (401, 403)


@pytest.mark.parametrize("change, field", [
    ({"latitude": 95.0}, "latitude"), ({"heading_deg": 400.0, "fov_deg": 60.0}, "heading_deg"),
    ({"heading_deg": 10.0}, "fov_deg"), ({"range_m": -5.0}, "range_m"), ({"coverage": [[1, 2]]}, "coverage"),
    ({"camera_id": "has space"}, "camera_id"),
])
def test_a_camera_with_a_bad_position_view_or_coverage_is_refused(device, beacon, change, field):
    values = {"camera_id": "cam-x", "name": "X", "device": device, "beacon": beacon, "latitude": 22.5,
              "longitude": 88.3, **change}
    with pytest.raises(InvalidInput) as refused:
        services.camera_create(**values)
    assert field in refused.value.fields


def test_a_camera_id_is_registered_once(device, beacon, entrance_camera):
    with pytest.raises(Conflict):
        services.camera_create(camera_id="library-entrance", name="Again", device=device, beacon=beacon,
                               latitude=22.5, longitude=88.3)
