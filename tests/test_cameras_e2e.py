"""Camera health end to end: a worker process killed makes its camera an incident; restarted, the incident resolves."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from django.utils import timezone

from cameras.models import Camera, SOSCameraEvidence
from cameras.services import camera_create, cameras_check_offline
from detection.app import DetectorApp
from detection.config import load_config
from detection.tests.factories import (
    gender_model,
    save_gender_checkpoint,
    save_violence_checkpoint,
    scene,
    timm_vit_state_dict,
    write_video,
)
from incidents.models import Incident
from incidents.services import device_create
from incidents.tests.fixtures import _private_evidence_dir, beacon  # noqa: F401
from sos.models import SOS
from sos.services import sos_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[1]
GRACE_S, RECOVERY_S = 3.0, 1.0


def wait_for(condition, timeout: float, step: float = 0.2, each=None):
    """Poll `condition` (running `each` first, e.g. the scheduler's check) until it holds or time runs out."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        if each is not None:
            each()
        if condition():
            return True
        pause.wait(step)  # the polling period of a condition, not a wait in its place
    return False


def worker_config(tmp_path: Path, *, api_url: str, beacon_id: str, device_key: str, **health) -> Path:
    models = tmp_path / "models"
    save_violence_checkpoint(models / "violence", timm_vit_state_dict(violence_bias=-6.0))
    save_gender_checkpoint(models / "gender", gender_model(female_bias=0.0))
    video = write_video(tmp_path / "quiet.avi", scene(static_before=40, fighting=0, static_after=0), fps=10)
    config = {
        "cameras": [{"id": "library-entrance", "source": str(video), "device_id": "CAM-01", "device_key": device_key,
                     "beacon_id": beacon_id, "analysis_fps": 2, "loop": True, "realtime": True}],
        "models": {"violence": str(models / "violence"), "gender": str(models / "gender")},
        "api": {"base_url": api_url},
        "publisher": {"spool_dir": str(tmp_path / "spool")},
        "health": {"heartbeat_interval_s": 0.5, **health},
    }
    path = tmp_path / "detector.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def start_worker(config: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_detector", "--config", str(config)], cwd=REPO_ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def camera() -> Camera:
    return Camera.objects.get(camera_id="library-entrance")


def check() -> None:
    cameras_check_offline(now=timezone.now())


def test_a_killed_worker_becomes_a_camera_offline_incident_and_its_restart_resolves_it(
    live_server, beacon, tmp_path, settings  # noqa: F811
):
    settings.CAMERA_OFFLINE_GRACE_SECONDS, settings.CAMERA_RECOVERY_SECONDS = GRACE_S, RECOVERY_S
    device, key = device_create(device_id="CAM-01", beacon=beacon)
    camera_create(camera_id="library-entrance", name="Library entrance", device=device, beacon=beacon,
                  latitude=22.5726, longitude=88.3639)
    config = worker_config(tmp_path, api_url=live_server.url, beacon_id=beacon.beacon_id, device_key=key)

    worker = start_worker(config)
    try:
        assert wait_for(lambda: camera().health == "ok" and camera().last_frame_at is not None, 120, each=check)
        assert camera().stats["fps"] is not None
        worker.kill()
        worker.wait(timeout=10)
        killed_at = time.monotonic()
        assert wait_for(lambda: camera().health == "offline", GRACE_S + 5, each=check)
        assert time.monotonic() - killed_at <= GRACE_S + 5
        incident = Incident.objects.get(kind="camera_offline")
        assert incident.is_open and "library-entrance" in incident.description

        worker = start_worker(config)
        assert wait_for(lambda: Incident.objects.get(pk=incident.pk).status == "RESOLVED", 120, each=check)
        resolved = Incident.objects.get(pk=incident.pk)
        assert "back online" in resolved.resolution_note
        assert camera().health == "ok"
        assert Incident.objects.filter(kind="camera_offline").count() == 1
    finally:
        worker.kill()
        worker.wait(timeout=10)


def test_an_sos_raised_in_view_of_a_running_camera_gets_its_pre_roll_frames(live_server, beacon, tmp_path):  # noqa: F811
    device, key = device_create(device_id="CAM-01", beacon=beacon)
    camera_create(camera_id="library-entrance", name="Library entrance", device=device, beacon=beacon,
                  latitude=22.5726, longitude=88.3639, range_m=40)
    config = worker_config(tmp_path, api_url=live_server.url, beacon_id=beacon.beacon_id, device_key=key,
                           preroll_s=3, preroll_frames=3)
    app = DetectorApp(load_config(config))
    runner = threading.Thread(target=app.run)
    runner.start()
    try:
        assert wait_for(lambda: camera().health == "ok" and camera().last_frame_at is not None, 120)
        sos, _ = sos_create(name="Asha", sos_type=SOS.Type.EMERGENCY, latitude=22.5727, longitude=88.3639,
                            accuracy_m=10)
        assert wait_for(lambda: SOSCameraEvidence.objects.filter(sos=sos).exists(), 20)
        frames = list(SOSCameraEvidence.objects.filter(sos=sos))
        assert 1 <= len(frames) <= 4 and all(f.camera.camera_id == "library-entrance" for f in frames)
        assert all(f.captured_at is not None and f.captured_at <= f.received_at for f in frames)
    finally:
        app.stop.set()
        runner.join(timeout=60)
