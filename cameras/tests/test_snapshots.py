"""Snapshots on request: a dispatcher asks, the heartbeat answer tells the worker, the worker posts the frame, the
dispatcher sees it with faces blurred, and the look is audited."""

import hashlib
import json
from datetime import timedelta

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cameras import services
from cameras.models import CameraSnapshot
from incidents.tests.fixtures import device_client_for
from privacy.models import ViewAuditEntry
from privacy.tests.helpers import scene_with_face

pytestmark = pytest.mark.django_db


def beat(device_client, state="ok"):
    response = device_client.post("/api/devices/heartbeat/", {"cameras": [
        {"camera_id": "library-entrance", "state": state}]}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["cameras"]["library-entrance"]


def send(device_client, snapshot_id, data: bytes, camera="library-entrance", **details):
    return device_client.post("/api/devices/camera-snapshot/", {
        "beacon_id": "ignored", "confidence_score": "1.0000", "description": "snapshot",
        "details": json.dumps({"camera": camera, "snapshot_id": snapshot_id, **details}),
        "images": [SimpleUploadedFile("frame.jpg", data, content_type="image/jpeg")],
    }, format="multipart")


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def test_a_requested_snapshot_reaches_the_dispatcher_with_faces_blurred_and_the_look_audited(
    client_for, dispatcher, device_client, entrance_camera
):
    dispatcher_client = client_for(dispatcher)
    asked = dispatcher_client.post("/api/cameras/library-entrance/snapshot/")
    assert asked.status_code == 202, asked.json()
    snapshot_id = asked.json()["snapshot_id"]
    assert (asked.json()["status"], asked.json()["image"]) == ("pending", None)

    assert beat(device_client)["snapshot_requests"] == [snapshot_id]
    data, (x, y, size) = scene_with_face()
    delivered = send(device_client, snapshot_id, data, captured_at="2026-12-01T10:00:00Z")
    assert delivered.status_code == 201, delivered.json()
    assert delivered.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert beat(device_client)["snapshot_requests"] == []  # answered: not asked again

    polled = dispatcher_client.get(f"/api/cameras/snapshots/{snapshot_id}/").json()
    assert polled["status"] == "ready" and polled["captured_at"] == "2026-12-01T10:00:00Z"
    assert polled["faces_found"] >= 1 and polled["width"] == 640
    shown = dispatcher_client.get(polled["image"])
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert shown["Cache-Control"] == "private, no-store"
    picture = decode(b"".join(shown.streaming_content))
    face = (slice(y + size // 4, y + 3 * size // 4), slice(x + size // 4, x + 3 * size // 4))
    assert decode(data)[face].var() > 1000 and picture[face].var() < 200
    audit = ViewAuditEntry.objects.get(subject_kind="camera", subject_id="library-entrance")
    assert (audit.action, audit.actor_label, audit.details["snapshot_id"]) == (
        "evidence_view", f"dispatcher:{dispatcher.username}", snapshot_id)
    # The original is kept privately, as sent.
    row = CameraSnapshot.objects.get(pk=snapshot_id)
    with row.image.storage.open(row.image.name, "rb") as handle:
        assert handle.read() == data


def test_requests_while_one_is_pending_share_it_and_the_worker_sends_one_frame(client_for, dispatcher, officer_a,
                                                                                entrance_camera):
    first = client_for(dispatcher).post("/api/cameras/library-entrance/snapshot/").json()
    second = client_for(officer_a).post("/api/cameras/library-entrance/snapshot/").json()
    assert first["snapshot_id"] == second["snapshot_id"]
    assert CameraSnapshot.objects.count() == 1


def test_a_frame_after_the_request_expired_or_a_second_one_is_refused(device_client, dispatcher, entrance_camera):
    from common.actors import Actor

    data, _ = scene_with_face()
    snapshot = services.camera_snapshot_request(camera_id="library-entrance", actor=Actor.for_user(dispatcher))
    assert send(device_client, snapshot.pk, data).status_code == 201
    again = send(device_client, snapshot.pk, data)
    assert (again.status_code, again.json()["code"]) == (409, "snapshot_delivered")

    old = services.camera_snapshot_request(camera_id="library-entrance", actor=Actor.for_user(dispatcher),
                                           now=timezone.now() - timedelta(seconds=services.snapshot_timeout_seconds() + 1))
    assert old.pk != snapshot.pk and beat(device_client)["snapshot_requests"] == []
    late = send(device_client, old.pk, data)
    assert (late.status_code, late.json()["code"]) == (409, "snapshot_expired")
    assert CameraSnapshot.objects.get(pk=old.pk).delivered_at is None


def test_only_the_cameras_own_device_may_answer_and_only_responders_may_ask_or_look(
    client_for, citizen, dispatcher, device_client, roaming_device, entrance_camera
):
    assert client_for(citizen).post("/api/cameras/library-entrance/snapshot/").status_code == 403
    snapshot_id = client_for(dispatcher).post("/api/cameras/library-entrance/snapshot/").json()["snapshot_id"]
    data, _ = scene_with_face()
    assert send(device_client_for(roaming_device.raw_key), snapshot_id, data).status_code == 403
    assert send(device_client, snapshot_id, data).status_code == 201
    assert client_for(citizen).get(f"/api/cameras/snapshots/{snapshot_id}/").status_code == 403
    assert client_for(citizen).get(f"/api/cameras/snapshots/{snapshot_id}/image/").status_code == 403
    assert not ViewAuditEntry.objects.exists()


@pytest.mark.parametrize("path, expected", [
    ("/api/cameras/nope/snapshot/", 404), ("/api/cameras/snapshots/999/", 404),
    ("/api/cameras/snapshots/99999999999999999999999/", 404),
])
def test_unknown_cameras_and_snapshots_are_a_clear_404(client_for, dispatcher, entrance_camera, path, expected):
    method = "post" if path.endswith("/snapshot/") else "get"
    response = getattr(client_for(dispatcher), method)(path)
    assert response.status_code in (expected, 400) and "error" in response.json()


def test_a_snapshot_not_yet_sent_has_no_image_to_look_at(client_for, dispatcher, entrance_camera):
    snapshot_id = client_for(dispatcher).post("/api/cameras/library-entrance/snapshot/").json()["snapshot_id"]
    response = client_for(dispatcher).get(f"/api/cameras/snapshots/{snapshot_id}/image/")
    assert (response.status_code, response.json()["code"]) == (409, "snapshot_not_ready")


@pytest.mark.parametrize("details, images", [
    ({"camera": "library-entrance", "snapshot_id": "seven"}, 1),
    ({"camera": "library-entrance"}, 1),
    ({"camera": "library-entrance", "snapshot_id": 1}, 0),
    ({"camera": "library-entrance", "snapshot_id": 1}, 2),
])
def test_malformed_uploads_are_a_clear_400_and_store_nothing(device_client, client_for, dispatcher, entrance_camera,
                                                              details, images):
    client_for(dispatcher).post("/api/cameras/library-entrance/snapshot/")
    data, _ = scene_with_face()
    response = device_client.post("/api/devices/camera-snapshot/", {
        "details": json.dumps(details),
        "images": [SimpleUploadedFile(f"f{n}.jpg", data, content_type="image/jpeg") for n in range(images)],
    }, format="multipart")
    assert response.status_code == 400 and "error" in response.json()
    assert not CameraSnapshot.objects.filter(delivered_at__isnull=False).exists()


def test_a_file_that_is_not_an_image_is_refused(device_client, client_for, dispatcher, entrance_camera):
    snapshot_id = client_for(dispatcher).post("/api/cameras/library-entrance/snapshot/").json()["snapshot_id"]
    response = send(device_client, snapshot_id, b"not a jpeg at all")
    assert response.status_code == 400
    assert CameraSnapshot.objects.get(pk=snapshot_id).delivered_at is None


def test_the_camera_list_names_the_open_sos_each_camera_watches(client_for, dispatcher, entrance_camera,
                                                                 stairs_camera):
    from cameras import geometry
    from cameras.tests.conftest import ORIGIN
    from sos import services as sos_services
    from sos.models import SOS

    lat, lng = geometry._offset(ORIGIN, east_m=0, north_m=20)
    sos, _ = sos_services.sos_create(name="Asha", sos_type=SOS.Type.EMERGENCY, latitude=lat, longitude=lng,
                                     accuracy_m=5)
    listed = {c["camera_id"]: c["open_sos"] for c in client_for(dispatcher).get("/api/cameras/").json()["results"]}
    assert listed == {"library-entrance": [sos.pk], "library-stairs": []}
    detail = client_for(dispatcher).get("/api/cameras/library-entrance/").json()
    assert detail["open_sos"] == [sos.pk]


def test_a_disabled_camera_is_not_asked(client_for, dispatcher, entrance_camera):
    entrance_camera.enabled = False
    entrance_camera.save()
    response = client_for(dispatcher).post("/api/cameras/library-entrance/snapshot/")
    assert (response.status_code, response.json()["code"]) == (409, "camera_disabled")
    assert not CameraSnapshot.objects.exists()
