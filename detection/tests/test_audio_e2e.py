"""The worker with sound, end to end: `manage.py run_detector` on two camera clips against the live platform.

One clip screams and becomes one scream incident whose audio a dispatcher downloads and decodes; the other is quiet
and raises nothing.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
import yaml

from detection.tests.audio_factories import (
    level,
    save_ast_checkpoint,
    scream,
    silence,
    speech_like,
    timeline,
    tiny_ast,
    write_media,
)
from detection.tests.factories import (
    gender_model,
    save_gender_checkpoint,
    save_violence_checkpoint,
    timm_vit_state_dict,
)
from incidents.models import AIEvent, Incident, IncidentAudio
from incidents.services import beacon_create, device_create
from incidents.tests.fixtures import _private_evidence_dir, beacon  # noqa: F401
from naarikavach.testing import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]


def worker_config(tmp_path: Path, *, api_url: str, cameras: list[dict]) -> Path:
    """Tiny models in the real layouts: the audio one calls every window a scream, so the gate decides; no violence."""
    models = tmp_path / "models"
    save_violence_checkpoint(models / "violence", timm_vit_state_dict(violence_bias=-6.0))
    save_gender_checkpoint(models / "gender", gender_model())
    save_ast_checkpoint(models / "ast", tiny_ast(scream_bias=6.0))
    config = {
        "cameras": cameras,
        "models": {"violence": str(models / "violence"), "gender": str(models / "gender")},
        "audio": {"model": str(models / "ast"), "decision": {"cooldown_s": 60}},
        "api": {"base_url": api_url},
        "publisher": {"spool_dir": str(tmp_path / "spool"), "retry_initial_s": 0.2, "drain_timeout_s": 60},
        "status_interval_s": 1,
    }
    path = tmp_path / "detector.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def camera(camera_id: str, media: Path, device_id: str, key: str, beacon_id: str) -> dict:
    return {"id": camera_id, "source": str(media), "device_id": device_id, "device_key": key, "beacon_id": beacon_id,
            "analysis_fps": 2, "audio": {}}


def test_a_screaming_clip_becomes_one_scream_incident_with_audio_a_dispatcher_can_play(
    live_server, beacon, dispatcher, tmp_path
):
    quiet_beacon = beacon_create(beacon_id="hostel-b", name="Hostel Block B")
    _, loud_key = device_create(device_id="CAM-01", beacon=beacon)
    _, quiet_key = device_create(device_id="CAM-02", beacon=quiet_beacon)
    screaming = write_media(tmp_path / "yard.mp4", timeline(silence(4), scream(2.5), silence(5.5)), video_seconds=12)
    quiet = write_media(tmp_path / "hall.mp4", timeline(silence(6), speech_like(6, rms=0.003)), video_seconds=12)
    config = worker_config(tmp_path, api_url=live_server.url, cameras=[
        camera("yard", screaming, "CAM-01", loud_key, beacon.beacon_id),
        camera("hall", quiet, "CAM-02", quiet_key, quiet_beacon.beacon_id),
    ])

    run = subprocess.run(
        [sys.executable, "manage.py", "run_detector", "--config", str(config)],
        cwd=REPO_ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=180,
    )

    assert run.returncode == 0, run.stderr
    incident = Incident.objects.get()
    assert (incident.kind, incident.priority, incident.beacon) == ("scream", "High", beacon)
    event = AIEvent.objects.get()
    assert event.incident == incident and event.confidence_score > 0.99
    assert event.details["label"] == "Screaming" and event.details["audio_source"] == "yard"
    assert f"incident={incident.pk}" in run.stderr
    assert "audio hall: ended | analysed 0 windows" in run.stderr
    clip = IncidentAudio.objects.get()
    assert clip.incident == incident and clip.content_type == "audio/ogg"

    # The dispatcher signs in like the dashboard does and fetches the clip the incident lists.
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        token = http.post("/auth/token/login/", json={"username": dispatcher.username, "password": PASSWORD})
        headers = {"Authorization": f"Token {token.json()['auth_token']}"}
        detail = http.get(f"/api/incidents/{incident.pk}/", headers=headers).json()
        [listed] = detail["audio"]
        download = http.get(listed["audio"], headers=headers)
    assert download.status_code == 200 and download.headers["content-type"] == "audio/ogg"
    with av.open(io.BytesIO(download.content)) as container:
        decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    assert level(decoded) > -25  # the scream is what the dispatcher hears
    assert list((tmp_path / "spool" / "pending").iterdir()) == []
