"""The optional pre-roll clip: kept privately with the SOS (SHA-256 of what was sent), shown with faces blurred."""

import hashlib
import io
import json

import cv2
import numpy as np
import pytest

from cameras.models import SOSCameraClip, SOSCameraEvidence
from cameras.tests.test_preroll import jpeg, linked_sos  # noqa: F401  (fixture)
from privacy.models import ViewAuditEntry
from privacy.tests.helpers import scene_with_face

pytestmark = pytest.mark.django_db


def webm(tmp_path, frames) -> bytes:
    path = tmp_path / "made.webm"
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), 1.0, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path.read_bytes()


def face_frames(count=3):
    data, face = scene_with_face()
    frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return [frame] * count, face


def named(data: bytes, name="clip.webm") -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


def upload(client, sos_id, clip: bytes | None):
    fields = {"details": json.dumps({"sos_id": sos_id, "camera": "library-entrance"}), "images": [jpeg(10)]}
    if clip is not None:
        fields["clip"] = named(clip)
    return client.post("/api/devices/sos-evidence/", fields, format="multipart")


def decode_frames(data: bytes, tmp_path) -> list[np.ndarray]:
    path = tmp_path / "shown.webm"
    path.write_bytes(data)
    capture, frames = cv2.VideoCapture(str(path)), []
    while (read := capture.read())[0]:
        frames.append(read[1])
    return frames


def test_a_clip_is_kept_with_the_sos_and_shown_with_faces_blurred_each_look_audited(
    device_client, linked_sos, client_for, dispatcher, tmp_path  # noqa: F811
):
    frames, (x, y, size) = face_frames()
    clip = webm(tmp_path, frames)

    response = upload(device_client, linked_sos.pk, clip)

    assert response.status_code == 201, response.json()
    assert response.json()["clip"] is True
    (listed,) = client_for(dispatcher).get(f"/api/sos/{linked_sos.pk}/camera-clips/").json()
    assert (listed["camera_id"], listed["frames"], listed["sha256"]) == (
        "library-entrance", 3, hashlib.sha256(clip).hexdigest())
    assert listed["faces_found"] >= 3
    shown = client_for(dispatcher).get(listed["video"])
    assert shown.status_code == 200 and shown["Content-Type"] == "video/webm"
    assert shown["Cache-Control"] == "private, no-store"
    played = decode_frames(b"".join(shown.streaming_content), tmp_path)
    face = (slice(y + size // 4, y + 3 * size // 4), slice(x + size // 4, x + 3 * size // 4))
    assert len(played) == 3 and frames[0][face].var() > 1000
    assert all(frame[face].var() < 200 for frame in played)
    audit = ViewAuditEntry.objects.get(subject_kind="sos", subject_id=str(linked_sos.pk), action="evidence_view")
    assert audit.details["camera_clip_id"] == listed["id"]
    row = SOSCameraClip.objects.get()
    with row.clip.storage.open(row.clip.name, "rb") as original:
        assert original.read() == clip  # kept as sent
    entry = linked_sos.audit_trail.get(action="camera_evidence")
    assert entry.details["clip_sha256"] == row.sha256


def test_the_citizen_never_sees_the_clip(device_client, linked_sos, client_for, citizen, tmp_path):  # noqa: F811
    upload(device_client, linked_sos.pk, webm(tmp_path, face_frames(2)[0]))
    row = SOSCameraClip.objects.get()
    assert client_for(citizen).get(f"/api/sos/{linked_sos.pk}/camera-clips/").status_code == 403
    assert client_for(citizen).get(f"/api/sos/camera-clips/{row.pk}/download/").status_code == 403
    assert not ViewAuditEntry.objects.exists()


@pytest.mark.parametrize("clip", [b"not a video at all", b"\x1a\x45\xdf\xa3" + b"\x00" * 200,
                                  b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200])
def test_a_clip_that_does_not_decode_is_refused_and_nothing_is_stored(device_client, linked_sos, clip,  # noqa: F811
                                                                      settings):
    response = upload(device_client, linked_sos.pk, clip)
    assert response.status_code == 400 and "clip" in response.json()["fields"]
    assert not SOSCameraClip.objects.exists() and not SOSCameraEvidence.objects.exists()
    media = settings.MEDIA_ROOT
    assert not any(p.is_file() for p in media.rglob("*")) if media.exists() else True


def test_without_a_clip_the_frames_alone_are_kept(device_client, linked_sos):  # noqa: F811
    response = upload(device_client, linked_sos.pk, None)
    assert response.status_code == 201 and response.json()["clip"] is False
    assert SOSCameraEvidence.objects.count() == 1 and not SOSCameraClip.objects.exists()
