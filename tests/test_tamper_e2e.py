"""Tampered cameras end to end: OpenCV-made videos of a frozen, a covered and a moved camera, analysed by the
worker against the live API, become exactly one camera_tamper incident each, with a snapshot."""

import cv2
import numpy as np
import pytest
import yaml

from detection.app import DetectorApp
from detection.config import load_config
from detection.tests.factories import (
    background,
    gender_model,
    save_gender_checkpoint,
    save_violence_checkpoint,
    timm_vit_state_dict,
    write_video,
)
from incidents.models import Incident
from incidents.services import beacon_create, device_create
from incidents.tests.fixtures import _private_evidence_dir  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
FPS = 10


def live(base, seconds, rng):
    return [np.clip(base.astype(np.float32) + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)
            for _ in range(int(seconds * FPS))]


def textured(seed):
    small = np.random.default_rng(seed).integers(0, 255, (12, 16, 3)).astype(np.uint8)
    return cv2.resize(small, (160, 120), interpolation=cv2.INTER_CUBIC)


def feeds(rng):
    still = live(background(), 8, rng)
    return {
        "frozen": still + [still[-1].copy() for _ in range(20 * FPS)],
        "covered": live(background(), 8, rng) + live(np.full_like(background(), 4), 20, rng),
        "moved": live(textured(1), 8, rng) + live(np.roll(textured(1), 60, axis=1), 20, rng),
        "healthy": live(textured(2), 28, rng),
    }


def test_each_tampered_camera_becomes_exactly_one_incident_with_a_snapshot(live_server, tmp_path):
    models = tmp_path / "models"
    save_violence_checkpoint(models / "violence", timm_vit_state_dict(violence_bias=-6.0))
    save_gender_checkpoint(models / "gender", gender_model(female_bias=0.0))
    cameras = []
    for name, frames in feeds(np.random.default_rng(0)).items():
        beacon = beacon_create(beacon_id=f"beacon-{name}", name=f"Beacon {name}")
        _, key = device_create(device_id=f"CAM-{name}", beacon=beacon)
        cameras.append({"id": name, "source": str(write_video(tmp_path / f"{name}.avi", frames, fps=FPS)),
                        "device_id": f"CAM-{name}", "device_key": key, "beacon_id": beacon.beacon_id,
                        "analysis_fps": 2})
    config = tmp_path / "detector.yaml"
    config.write_text(yaml.safe_dump({
        "cameras": cameras,
        "models": {"violence": str(models / "violence"), "gender": str(models / "gender")},
        "api": {"base_url": live_server.url},
        "publisher": {"spool_dir": str(tmp_path / "spool"), "retry_initial_s": 0.2, "drain_timeout_s": 60},
        "tamper": {"frozen_after_s": 10, "covered_after_s": 5, "moved_after_s": 5},
        "health": {"heartbeat_interval_s": 1},
    }))

    assert DetectorApp(load_config(config)).run() == 0

    incidents = {i.beacon.beacon_id: i for i in Incident.objects.filter(kind="camera_tamper").select_related("beacon")}
    assert sorted(incidents) == ["beacon-covered", "beacon-frozen", "beacon-moved"]
    assert Incident.objects.count() == 3  # no violence, nothing for the healthy camera
    for name in ("frozen", "covered", "moved"):
        incident = incidents[f"beacon-{name}"]
        assert incident.signal_count == 1 and incident.priority == "High"
        assert name in incident.ai_events.get().details["tamper"]
        (image,) = incident.images.all()
        assert image.content_type == "image/jpeg" and image.width == 160
