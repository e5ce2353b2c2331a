"""SOS ↔ camera links: raised or moving SOS meet camera coverage; shown in the SOS detail; published; manual links."""

import pytest

from cameras import geometry
from cameras.models import SOSCameraLink
from cameras.tests.conftest import ORIGIN
from common.actors import Actor
from common.errors import Forbidden
from realtime.models import OutboxEvent
from sos import services as sos_services
from sos.models import SOS


def at(north_m: float, east_m: float = 0.0) -> tuple[float, float]:
    return geometry._offset(ORIGIN, east_m=east_m, north_m=north_m)


def raise_sos_at(point, accuracy_m=None):
    sos, token = sos_services.sos_create(name="Asha", sos_type=SOS.Type.EMERGENCY, latitude=point[0],
                                         longitude=point[1], accuracy_m=accuracy_m)
    return sos, token


def current_cameras(sos):
    return sorted(SOSCameraLink.objects.filter(sos=sos, left_at__isnull=True).values_list("camera__camera_id",
                                                                                          flat=True))


def test_an_sos_raised_inside_a_cameras_view_is_linked_with_when_and_why(entrance_camera, stairs_camera):
    sos, _ = raise_sos_at(at(north_m=20), accuracy_m=5)

    link = SOSCameraLink.objects.get(sos=sos)
    assert link.camera == entrance_camera and link.source == "position" and link.distance_m == 0
    assert "inside its coverage" in link.reason and link.linked_at == sos.created_at
    event = OutboxEvent.objects.get(event="sos_cameras_changed")
    assert [c["camera_id"] for c in event.payload["linked"]] == ["library-entrance"]
    assert event.payload["sos_id"] == sos.pk and event.rooms == ["sos_channel"]


def test_an_sos_outside_every_view_links_nothing(entrance_camera, stairs_camera):
    sos, _ = raise_sos_at(at(north_m=-40), accuracy_m=10)  # behind the entrance camera
    assert current_cameras(sos) == []
    assert not OutboxEvent.objects.filter(event="sos_cameras_changed").exists()


def test_an_uncertainty_circle_reaching_exactly_the_edge_links_and_one_a_metre_short_does_not(entrance_camera):
    point = at(north_m=-30)  # 30 m behind the camera, whose view's nearest point is the camera itself
    gap = geometry.distance_to_polygon_m(point, entrance_camera.coverage_polygon())
    assert gap == pytest.approx(30, abs=0.05)
    short, _ = raise_sos_at(point, accuracy_m=gap - 1)
    edge, _ = raise_sos_at(point, accuracy_m=gap)
    assert current_cameras(short) == []
    assert current_cameras(edge) == ["library-entrance"]


def test_an_sos_without_accuracy_uses_the_default_uncertainty(settings, entrance_camera):
    settings.CAMERA_SOS_DEFAULT_UNCERTAINTY_M = 35
    sos, _ = raise_sos_at(at(north_m=-30))
    assert current_cameras(sos) == ["library-entrance"]


def test_a_moving_sos_is_linked_on_entering_a_view_and_the_link_ends_when_it_leaves(citizen, entrance_camera,
                                                                                      stairs_camera):
    sos, token = raise_sos_at(at(north_m=-100), accuracy_m=5)
    owner = Actor.from_credentials(sos_token=token)
    assert current_cameras(sos) == []

    p = at(north_m=10)
    sos_services.sos_location_add(sos_id=sos.pk, latitude=p[0], longitude=p[1], accuracy_m=5, actor=owner)
    assert current_cameras(sos) == ["library-entrance"]
    p = at(north_m=15)  # moving inside the view changes nothing
    sos_services.sos_location_add(sos_id=sos.pk, latitude=p[0], longitude=p[1], accuracy_m=5, actor=owner)
    assert SOSCameraLink.objects.filter(sos=sos).count() == 1
    p = at(north_m=0, east_m=215)  # walks east, to the stairs
    sos_services.sos_location_add(sos_id=sos.pk, latitude=p[0], longitude=p[1], accuracy_m=5, actor=owner)
    assert current_cameras(sos) == ["library-stairs"]

    history = SOSCameraLink.objects.get(sos=sos, camera=entrance_camera)
    assert history.left_at is not None and "moved out" in history.left_reason
    events = [e.payload for e in OutboxEvent.objects.filter(event="sos_cameras_changed")]
    assert [([c["camera_id"] for c in e["linked"]], [c["camera_id"] for c in e["left"]]) for e in events] == [
        (["library-entrance"], []), (["library-stairs"], ["library-entrance"])]


def test_the_sos_detail_shows_its_cameras_to_responders(client_for, dispatcher, entrance_camera):
    sos, _ = raise_sos_at(at(north_m=20), accuracy_m=5)
    body = client_for(dispatcher).get(f"/api/sos/{sos.pk}/").json()
    assert [(c["camera_id"], c["source"], c["health"]) for c in body["cameras"]] == [
        ("library-entrance", "position", "unknown")]


def test_a_dispatcher_links_and_unlinks_a_camera_by_hand_and_a_citizen_cannot(client_for, dispatcher, citizen,
                                                                               stairs_camera):
    sos, token = raise_sos_at(at(north_m=-500), accuracy_m=5)
    url = f"/api/sos/{sos.pk}/cameras/"
    assert client_for(citizen).post(url + "link/", {"camera_id": "library-stairs"}).status_code == 403
    assert client_for(None, sos_token=token).post(url + "link/", {"camera_id": "library-stairs"}).status_code in (
        401, 403)

    client = client_for(dispatcher)
    linked = client.post(url + "link/", {"camera_id": "library-stairs", "note": "she said stairs"}, format="json")
    assert linked.status_code == 201 and "she said stairs" in linked.json()["link"]["reason"]
    assert client.post(url + "link/", {"camera_id": "library-stairs"}).status_code == 409
    assert client.post(url + "link/", {"camera_id": "nope"}).status_code == 404
    # A manual link survives the SOS moving elsewhere.
    p = at(north_m=-600)
    sos_services.sos_location_add(sos_id=sos.pk, latitude=p[0], longitude=p[1],
                                  actor=Actor.from_credentials(sos_token=token))
    assert current_cameras(sos) == ["library-stairs"]
    assert client.post(url + "unlink/", {"camera_id": "library-stairs"}).status_code == 200
    assert current_cameras(sos) == []
    assert client.post(url + "unlink/", {"camera_id": "library-stairs"}).status_code == 404


def test_the_service_refuses_a_manual_link_from_a_non_responder(citizen, stairs_camera):
    from cameras.services import camera_sos_link

    sos, _ = raise_sos_at(at(north_m=-500))
    with pytest.raises(Forbidden):
        camera_sos_link(sos_id=sos.pk, camera_id="library-stairs", actor=Actor.for_user(citizen))


def test_a_camera_a_dispatcher_unlinked_is_not_linked_again_when_the_sos_moves(client_for, dispatcher,
                                                                                entrance_camera):
    sos, token = raise_sos_at(at(north_m=20), accuracy_m=5)
    assert client_for(dispatcher).post(f"/api/sos/{sos.pk}/cameras/unlink/", {"camera_id": "library-entrance",
                                                                            "note": "faces away"}).status_code == 200
    p = at(north_m=25)
    sos_services.sos_location_add(sos_id=sos.pk, latitude=p[0], longitude=p[1], accuracy_m=5,
                                  actor=Actor.from_credentials(sos_token=token))
    assert current_cameras(sos) == []


def test_the_citizen_who_raised_the_sos_learns_nothing_about_the_cameras(client_for, entrance_camera):
    sos, token = raise_sos_at(at(north_m=20), accuracy_m=5)
    body = client_for(None, sos_token=token).get(f"/api/sos/{sos.pk}/").json()
    assert body["cameras"] == [] and current_cameras(sos) == ["library-entrance"]
