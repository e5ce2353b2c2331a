"""Camera pictures under the privacy rules: the retention purge removes snapshots and the files of an SOS's camera
evidence (holds honoured), looks at a camera are audited under a `camera` subject, and holders of the
unredacted-evidence permission see originals of snapshots, key frames and clips, giving a reason."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cameras import geometry
from cameras.models import CameraSnapshot, SOSCameraClip, SOSCameraEvidence
from cameras.tests.conftest import ORIGIN
from cameras.tests.test_preroll import jpeg, linked_sos  # noqa: F401  (fixture)
from cameras.tests.test_preroll_clip import face_frames, named, webm
from cameras.tests.test_snapshots import beat, send
from common.actors import Actor
from naarikavach.testing import PASSWORD
from privacy import services as privacy_services
from privacy.models import ViewAuditEntry
from privacy.retention import retention_policy, retention_purge
from privacy.tests.helpers import grant_unredacted, scene_with_face
from sos import services as sos_services
from sos.models import SOS

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def delivered_snapshot(client_for, dispatcher, device_client, *, data: bytes | None = None) -> CameraSnapshot:
    snapshot_id = client_for(dispatcher).post("/api/cameras/library-entrance/snapshot/").json()["snapshot_id"]
    beat(device_client)
    sent = send(device_client, snapshot_id, data if data is not None else jpeg(40).read())
    assert sent.status_code == 201, sent.json()
    return CameraSnapshot.objects.get(pk=snapshot_id)


def stored(field) -> bool:
    return field.storage.exists(field.name)


def sos_with_camera_evidence(device_client, tmp_path) -> SOS:
    """An SOS inside the entrance camera's view, with two key frames and a clip from it."""
    lat, lng = geometry._offset(ORIGIN, east_m=0, north_m=20)
    sos, _ = sos_services.sos_create(name="Asha", sos_type=SOS.Type.EMERGENCY, latitude=lat, longitude=lng,
                                     accuracy_m=5)
    frames, _ = face_frames()
    response = device_client.post("/api/devices/sos-evidence/", {
        "details": f'{{"sos_id": {sos.pk}, "camera": "library-entrance"}}', "images": [jpeg(10), jpeg(20)],
        "clip": named(webm(tmp_path, frames)),
    }, format="multipart")
    assert response.status_code == 201, response.json()
    return sos


def close_long_ago(sos: SOS, dispatcher, *, days_ago: float) -> None:
    sos_services.sos_resolve(sos_id=sos.pk, actor=Actor.for_user(dispatcher))
    SOS.objects.filter(pk=sos.pk).update(closed_at=timezone.now() - days_ago * DAY)


def camera_files(sos: SOS) -> list:
    frames = [row.image for row in SOSCameraEvidence.objects.filter(sos=sos)]
    clips = SOSCameraClip.objects.filter(sos=sos)
    return frames + [row.clip for row in clips] + [row.redacted for row in clips]


# Retention ----------------------------------------------------------------------------------------


def test_snapshots_have_their_own_retention_with_a_safe_default(settings):
    assert retention_policy()["camera_snapshots"] == 30
    settings.PRIVACY_RETENTION_DAYS = {"camera_snapshots": 7}
    assert retention_policy()["camera_snapshots"] == 7


def test_old_snapshots_go_with_their_files_and_recent_ones_stay(client_for, dispatcher, device_client,
                                                                entrance_camera):
    old = delivered_snapshot(client_for, dispatcher, device_client)
    CameraSnapshot.objects.filter(pk=old.pk).update(requested_at=timezone.now() - 31 * DAY)
    recent = delivered_snapshot(client_for, dispatcher, device_client)
    assert stored(old.image) and stored(old.redacted)

    run = retention_purge()

    assert list(CameraSnapshot.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not stored(old.image) and not stored(old.redacted)
    assert stored(recent.image) and stored(recent.redacted)
    assert (run.counts["camera_snapshots"], run.counts["file_errors"]) == (1, 0)


def test_a_purged_sos_takes_its_camera_files_with_it_and_a_held_one_keeps_them(
        device_client, entrance_camera, dispatcher, tmp_path):
    purged = sos_with_camera_evidence(device_client, tmp_path)
    held = sos_with_camera_evidence(device_client, tmp_path)
    purged_files, held_files = camera_files(purged), camera_files(held)
    assert len(purged_files) == 4 and all(stored(f) for f in purged_files)  # 2 frames, a clip and its blurred copy
    for sos in (purged, held):
        close_long_ago(sos, dispatcher, days_ago=731)
    privacy_services.legal_hold_place(subject_kind="sos", subject_id=held.pk, actor=Actor.for_user(dispatcher),
                                      reason="Case 7/2026 pending in court")

    run = retention_purge()

    assert list(SOS.objects.values_list("pk", flat=True)) == [held.pk]
    assert not any(stored(f) for f in purged_files)
    assert all(stored(f) for f in held_files) and len(camera_files(held)) == 4
    assert (run.counts["closed_sos"], run.counts["camera_evidence_files"], run.counts["file_errors"]) == (1, 3, 0)


def test_an_sos_whose_camera_files_could_not_be_deleted_is_kept_for_the_next_run(
        device_client, entrance_camera, dispatcher, tmp_path, monkeypatch):
    sos = sos_with_camera_evidence(device_client, tmp_path)
    close_long_ago(sos, dispatcher, days_ago=731)
    files = camera_files(sos)
    storage_class = type(files[0].storage._wrapped)

    def unreachable(self, name):
        raise OSError("storage unreachable")

    monkeypatch.setattr(storage_class, "delete", unreachable)
    run = retention_purge()
    assert SOS.objects.filter(pk=sos.pk).exists() and all(stored(f) for f in files)
    assert (run.counts["closed_sos"], run.counts["file_errors"]) == (0, 3)
    monkeypatch.undo()

    assert retention_purge().counts["closed_sos"] == 1
    assert not SOS.objects.filter(pk=sos.pk).exists()


# The view audit's camera subject ----------------------------------------------------------------------


def test_looks_at_a_camera_are_audited_under_the_camera_subject_in_admin_and_the_camera_detail(
        client_for, dispatcher, officer_a, device_client, entrance_camera, admin_user, client):
    snapshot = delivered_snapshot(client_for, dispatcher, device_client)
    client_for(officer_a).get(reverse("camera-snapshot-image", args=[snapshot.pk]))

    entry = ViewAuditEntry.objects.get(subject_id="library-entrance")
    assert (entry.subject_kind, entry.get_subject_kind_display()) == ("camera", "Camera")
    detail = client_for(dispatcher).get("/api/cameras/library-entrance/").json()
    assert [(v["by"], v["subject_kind"], v["action"]) for v in detail["view_audit"]] == [
        (f"officer:{officer_a.username}", "camera", "evidence_view")]
    assert "view_audit" not in client_for(officer_a).get("/api/cameras/library-entrance/").json()

    client.force_login(admin_user)
    changelist = client.get(reverse("admin:privacy_viewauditentry_changelist"), {"subject_kind": "camera"})
    assert changelist.status_code == 200
    page = changelist.content.decode()
    assert "?subject_kind=camera" in page and ">Camera<" in page  # the filter offers it by name
    assert "library-entrance" in page


# Unredacted originals ------------------------------------------------------------------------------


def _original_bytes(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_snapshot_original_needs_the_permission_and_a_reason_and_records_why(
        client_for, dispatcher, officer_a, device_client, entrance_camera):
    data, _ = scene_with_face()
    snapshot = delivered_snapshot(client_for, dispatcher, device_client, data=data)
    url = reverse("camera-snapshot-unredacted", args=[snapshot.pk])

    assert client_for(officer_a).post(url, {"reason": "Identify the attacker"}).status_code == 403
    grant_unredacted(officer_a)
    assert client_for(officer_a).post(url, {"reason": "  "}).status_code == 400
    assert not ViewAuditEntry.objects.filter(action="evidence_unredacted").exists()
    shown = client_for(officer_a).post(url, {"reason": "Identify the attacker"})

    assert shown.status_code == 200 and _original_bytes(shown) == data
    assert shown["Cache-Control"] == "private, no-store"
    [entry] = ViewAuditEntry.objects.filter(action="evidence_unredacted")
    assert (entry.subject_kind, entry.subject_id, entry.reason, entry.details["snapshot_id"]) == (
        "camera", "library-entrance", "Identify the attacker", snapshot.pk)


@pytest.mark.parametrize("kind", ["key_frame", "clip"])
def test_an_sos_camera_original_needs_the_permission_and_a_reason_and_is_audited_under_the_sos(
        kind, client_for, officer_a, citizen, device_client, entrance_camera, tmp_path):
    sos = sos_with_camera_evidence(device_client, tmp_path)
    if kind == "key_frame":
        row = SOSCameraEvidence.objects.filter(sos=sos).first()
        url, original, key = reverse("sos-camera-evidence-unredacted", args=[row.pk]), row.image, "camera_evidence_id"
    else:
        row = SOSCameraClip.objects.get(sos=sos)
        url, original, key = reverse("sos-camera-clip-unredacted", args=[row.pk]), row.clip, "camera_clip_id"

    assert client_for(citizen).post(url, {"reason": "Curious"}).status_code == 403
    assert client_for(officer_a).post(url, {"reason": "Identify the attacker"}).status_code == 403
    grant_unredacted(officer_a)
    assert client_for(officer_a).post(url, {}).status_code == 400
    shown = client_for(officer_a).post(url, {"reason": "Identify the attacker"})

    assert shown.status_code == 200
    with original.storage.open(original.name, "rb") as handle:
        assert _original_bytes(shown) == handle.read()
    [entry] = ViewAuditEntry.objects.filter(action="evidence_unredacted")
    assert (entry.subject_kind, entry.subject_id, entry.reason, entry.details[key]) == (
        "sos", str(sos.pk), "Identify the attacker", row.pk)
    missing = reverse("sos-camera-evidence-unredacted" if kind == "key_frame" else "sos-camera-clip-unredacted",
                      args=[row.pk + 1000])
    assert client_for(officer_a).post(missing, {"reason": "x"}).status_code == 404


# Settings from the environment ------------------------------------------------------------------------


def _settings_read(env: dict) -> list[str]:
    script = ("import naarikavach.settings as s; "
              "print(s.CAMERA_SNAPSHOT_TIMEOUT_SECONDS, s.PRIVACY_RETENTION_DAYS['camera_snapshots'])")
    keep = {k: v for k, v in os.environ.items() if k not in ("CAMERA_SNAPSHOT_TIMEOUT_SECONDS",
                                                             "RETENTION_CAMERA_SNAPSHOT_DAYS")}
    done = subprocess.run([sys.executable, "-c", script], env={**keep, "DJANGO_SECRET_KEY": "x" * 50, **env},
                          cwd=settings_module_root(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def settings_module_root():
    import naarikavach

    return os.path.dirname(os.path.dirname(naarikavach.__file__))


def test_the_snapshot_timeout_and_snapshot_retention_come_from_the_environment_with_defaults():
    assert _settings_read({}) == ["60.0", "30"]
    assert _settings_read({"CAMERA_SNAPSHOT_TIMEOUT_SECONDS": "15", "RETENTION_CAMERA_SNAPSHOT_DAYS": "7"}) == [
        "15.0", "7"]


def test_a_snapshot_request_waits_as_long_as_the_setting_says(client_for, dispatcher, entrance_camera, settings):
    settings.CAMERA_SNAPSHOT_TIMEOUT_SECONDS = 15
    asked = client_for(dispatcher).post("/api/cameras/library-entrance/snapshot/").json()
    snapshot = CameraSnapshot.objects.get(pk=asked["snapshot_id"])
    assert snapshot.expires_at - snapshot.requested_at == timedelta(seconds=15)


def test_a_citizens_deletion_takes_her_sos_camera_files_with_it(citizen, dispatcher, client_for, device_client,
                                                                  entrance_camera, tmp_path):
    sos = sos_with_camera_evidence(device_client, tmp_path)
    SOS.objects.filter(pk=sos.pk).update(owner=citizen)
    files = camera_files(sos)
    sos_services.sos_resolve(sos_id=sos.pk, actor=Actor.for_user(dispatcher))

    response = client_for(citizen).post("/api/privacy/me/delete/", {"current_password": PASSWORD})

    assert response.status_code == 200, response.json()
    assert response.json()["deleted"]["camera_evidence_files"] == 3
    assert not SOS.objects.filter(pk=sos.pk).exists() and not any(stored(f) for f in files)
