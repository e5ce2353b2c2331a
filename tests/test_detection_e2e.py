"""The detection worker end to end: `manage.py run_detector` on a video with one fight, against the real API."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from detection.tests.factories import (
    gender_model,
    people_scene,
    save_gender_checkpoint,
    save_violence_checkpoint,
    timm_vit_state_dict,
    write_video,
)
from incidents.models import AIEvent, Incident
from incidents.services import device_create
from incidents.tests.fixtures import _private_evidence_dir, beacon  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[1]


def worker_config(tmp_path: Path, *, api_url: str, beacon_id: str, device_key: str) -> Path:
    """Tiny models in the real layouts; the violence one calls every frame violent, so the motion gate decides.

    The video shows two people fighting, tall enough for the default HOG person detector; the gender model
    calls everyone female, so the census must find two people, both women.
    """
    models = tmp_path / "models"
    save_violence_checkpoint(models / "violence", timm_vit_state_dict(violence_bias=6.0))
    save_gender_checkpoint(models / "gender", gender_model(female_bias=4.0))
    video = write_video(tmp_path / "corridor.avi", people_scene(static_before=30, fighting=60, static_after=40), fps=10)
    config = {
        "cameras": [{
            "id": "library-entrance", "source": str(video), "device_id": "CAM-01", "device_key": device_key,
            "beacon_id": beacon_id, "analysis_fps": 2,
        }],
        "models": {"violence": str(models / "violence"), "gender": str(models / "gender")},
        "decision": {"window": 3, "cooldown_s": 120},
        "api": {"base_url": api_url},
        "publisher": {"spool_dir": str(tmp_path / "spool"), "retry_initial_s": 0.2, "drain_timeout_s": 60},
        "status_interval_s": 1,
    }
    path = tmp_path / "detector.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_worker_turns_one_fight_on_camera_into_one_incident_with_evidence(live_server, beacon, tmp_path):
    _, key = device_create(device_id="CAM-01", beacon=beacon)
    config = worker_config(tmp_path, api_url=live_server.url, beacon_id=beacon.beacon_id, device_key=key)

    run = subprocess.run(
        [sys.executable, "manage.py", "run_detector", "--config", str(config)],
        cwd=REPO_ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=180,
    )

    assert run.returncode == 0, run.stderr
    incident = Incident.objects.get()
    assert incident.beacon == beacon and incident.kind == "violence"
    assert 1 <= incident.images.count() <= 3
    event = AIEvent.objects.get()
    assert event.incident == incident and event.confidence_score > 0.99
    # Two people found on the person crops, both classified female: context for the dispatcher (said with the
    # count), and the worker's hint (critical) sets the priority.
    assert event.details["priority_hint"] == "critical" and event.details["woman_present"] is True
    assert incident.priority == "Critical" and "2 female, 0 male" in incident.description
    assert f"incident={incident.pk}" in run.stderr
    assert list((tmp_path / "spool" / "pending").iterdir()) == []
    assert event.details["camera"] == "library-entrance"
    census = {k: event.details[k] for k in ("people", "female", "male", "gender_basis")}
    assert census == {"people": 2, "female": 2, "male": 0, "gender_basis": "person_crops"}
