"""Pre-roll evidence: key frames from a linked camera's last seconds, kept privately with the SOS."""

import io
import json

import pytest
from PIL import Image

from cameras import geometry
from cameras.models import SOSCameraEvidence
from cameras.tests.conftest import ORIGIN
from incidents.tests.fixtures import device_client_for
from realtime.models import OutboxEvent
from sos import services as sos_services
from sos.models import SOS


def jpeg(shade=30) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, shade, shade)).save(data, "JPEG")
    data.seek(0)
    data.name = "frame.jpg"
    return data


@pytest.fixture
def linked_sos(entrance_camera):
    lat, lng = geometry._offset(ORIGIN, east_m=0, north_m=20)
    sos, _ = sos_services.sos_create(name="Asha", sos_type=SOS.Type.EMERGENCY, latitude=lat, longitude=lng,
                                     accuracy_m=5)
    return sos


def upload(client, sos_id, camera="library-entrance", images=None, **details):
    details = {"sos_id": sos_id, "camera": camera, **details}
    return client.post("/api/devices/sos-evidence/", {
        "beacon_id": "ignored", "confidence_score": "1.0000", "description": "pre-roll",
        "details": json.dumps(details), "images": images if images is not None else [jpeg(10), jpeg(20)],
    }, format="multipart")


def test_a_linked_cameras_key_frames_are_kept_with_the_sos_for_responders(device_client, linked_sos, client_for,
                                                                          dispatcher):
    response = upload(device_client, linked_sos.pk, captured_at=["2026-12-01T10:00:00Z", "2026-12-01T10:00:05Z"])

    assert response.status_code == 201, response.json()
    listed = client_for(dispatcher).get(f"/api/sos/{linked_sos.pk}/camera-evidence/").json()
    assert [(row["camera_id"], row["captured_at"]) for row in listed] == [
        ("library-entrance", "2026-12-01T10:00:00Z"), ("library-entrance", "2026-12-01T10:00:05Z")]
    download = client_for(dispatcher).get(listed[0]["image"])
    assert download.status_code == 200 and b"".join(download.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"  # faces blurred: PNG
    assert download["Cache-Control"] == "private, no-store"
    assert OutboxEvent.objects.get(event="sos_camera_evidence").payload["images"] == 2
    assert linked_sos.audit_trail.filter(action="camera_evidence").exists()


def test_the_citizen_never_sees_the_camera_frames(client_for, citizen, device_client, linked_sos):
    upload(device_client, linked_sos.pk)
    assert client_for(citizen).get(f"/api/sos/{linked_sos.pk}/camera-evidence/").status_code == 403
    row = SOSCameraEvidence.objects.first()
    assert client_for(citizen).get(f"/api/sos/camera-evidence/{row.pk}/download/").status_code == 403


def test_a_camera_not_linked_to_the_sos_or_of_another_device_may_not_send(device_client, roaming_device, linked_sos,
                                                                          stairs_camera):
    assert upload(device_client, linked_sos.pk, camera="library-stairs").status_code == 403
    assert upload(device_client_for(roaming_device.raw_key), linked_sos.pk).status_code == 403
    assert upload(device_client, linked_sos.pk, camera="nope").status_code == 404
    assert not SOSCameraEvidence.objects.exists()


@pytest.mark.parametrize("images", [[], [jpeg() for _ in range(7)]])
def test_no_image_or_too_many_is_refused(device_client, linked_sos, images):
    assert upload(device_client, linked_sos.pk, images=images).status_code == 400
    assert not SOSCameraEvidence.objects.exists()


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_stored(device_client, linked_sos, settings):
    fake = io.BytesIO(b"not a jpeg at all")
    fake.name = "x.jpg"
    assert upload(device_client, linked_sos.pk, images=[jpeg(), fake]).status_code == 400
    assert not SOSCameraEvidence.objects.exists()
    media = settings.MEDIA_ROOT
    assert not any(p.is_file() for p in media.rglob("*")) if media.exists() else True


def test_malformed_details_are_a_clear_400(device_client, linked_sos):
    assert upload(device_client, "seven").status_code == 400
    response = device_client.post("/api/devices/sos-evidence/", {"details": "{", "images": [jpeg()]},
                                  format="multipart")
    assert response.status_code == 400


def test_a_key_frame_is_shown_with_faces_blurred_and_each_look_is_audited(device_client, linked_sos, client_for,
                                                                          dispatcher):
    import cv2
    import numpy as np

    from privacy.models import ViewAuditEntry
    from privacy.tests.helpers import scene_with_face

    data, (x, y, size) = scene_with_face()
    face_jpeg = io.BytesIO(data)
    face_jpeg.name = "face.jpg"
    assert upload(device_client, linked_sos.pk, images=[face_jpeg]).status_code == 201
    (listed,) = client_for(dispatcher).get(f"/api/sos/{linked_sos.pk}/camera-evidence/").json()

    shown = client_for(dispatcher).get(listed["image"])

    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    picture = cv2.imdecode(np.frombuffer(b"".join(shown.streaming_content), np.uint8), cv2.IMREAD_COLOR)
    original = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    face = (slice(y + size // 4, y + 3 * size // 4), slice(x + size // 4, x + 3 * size // 4))
    assert original[face].var() > 1000 and picture[face].var() < 200
    audit = ViewAuditEntry.objects.get(subject_kind="sos", subject_id=str(linked_sos.pk))
    assert (audit.action, audit.details["camera_evidence_id"]) == ("evidence_view", listed["id"])


def test_an_sos_bundle_carries_the_pre_roll_originals_and_verifies(device_client, linked_sos, client_for, dispatcher,
                                                                    tmp_path):
    import hashlib
    import zipfile

    from privacy import signing
    from privacy.verify_bundle import verify_bundle

    assert upload(device_client, linked_sos.pk, images=[jpeg(10), jpeg(200)]).status_code == 201
    response = client_for(dispatcher).post(f"/api/privacy/sos/{linked_sos.pk}/bundle/", {"reason": "Court"})
    assert response.status_code == 200
    bundle = b"".join(response.streaming_content) if response.streaming else response.content

    archive = zipfile.ZipFile(io.BytesIO(bundle))
    manifest = json.loads(archive.read("manifest.json"))
    frames = [f for f in manifest["files"] if f.get("source") == "camera pre-roll"]
    rows = SOSCameraEvidence.objects.filter(sos=linked_sos).order_by("received_at", "id")
    assert [(f["camera_evidence_id"], f["sha256"]) for f in frames] == [(row.pk, row.sha256) for row in rows]
    for entry in frames:  # the originals, byte for byte, not the blurred copies responders see
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256_at_upload"]
        assert entry["camera"] == "library-entrance" and entry["intact_since_upload"]
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    assert verify_bundle(str(path), signing.public_key_pem()) == []
