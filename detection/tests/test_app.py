"""The whole worker without Django: a video with one fight becomes one report, and the process starts and stops cleanly."""

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from detection.app import DetectorApp, main
from detection.config import load_config
from detection.tests.factories import (
    gender_model,
    save_gender_checkpoint,
    save_violence_checkpoint,
    scene,
    timm_vit_state_dict,
    write_video,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A violence model that calls every frame violent (so the motion gate decides), and a gender model."""
    root = tmp_path_factory.mktemp("models")
    save_violence_checkpoint(root / "violence", timm_vit_state_dict(violence_bias=6.0))
    save_gender_checkpoint(root / "gender", gender_model(female_bias=4.0))
    return root


def write_config(tmp_path, models, cameras, **sections):
    config = {
        "cameras": cameras,
        "models": {"violence": str(models / "violence"), "gender": str(models / "gender")},
        # PyTorch unless a test asks for another runtime; converted models are cached beside the shared models.
        "inference": {"batch_size": 4, "max_batch_wait_ms": 20, "threads": 2, "runtime": "torch",
                      "cache_dir": str(models / "cache")},
        "decision": {"window": 3, "cooldown_s": 120},
        "publisher": {"spool_dir": "spool", "retry_initial_s": 0.05, "drain_timeout_s": 10},
        "status_interval_s": 0.3,
        **sections,
    }
    path = tmp_path / "detector.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def camera(name, video, **extra):
    return {"id": name, "source": str(video), "device_id": f"DEV-{name}", "device_key": f"key-{name}",
            "beacon_id": f"beacon-{name}", "analysis_fps": 2, **extra}


# Converting to OpenVINO, and auto's measuring of every candidate, take tens of seconds on a busy 2-core machine.
@pytest.mark.parametrize("runtime", [
    "torch", pytest.param("openvino", marks=pytest.mark.slow), "onnxruntime", pytest.param("auto", marks=pytest.mark.slow),
])
def test_a_video_with_one_fight_produces_exactly_one_report_with_evidence(tmp_path, models, fake_api, caplog, runtime):
    caplog.set_level(logging.INFO, logger="detection")
    video = write_video(tmp_path / "corridor.avi", scene(30, 60, 40), fps=10)
    inference = {"batch_size": 4, "max_batch_wait_ms": 20, "threads": 2, "runtime": runtime,
                 "cache_dir": str(models / "cache")}
    config = load_config(write_config(
        tmp_path, models, [camera("corridor", video)], api={"base_url": fake_api.url}, inference=inference
    ))
    app = DetectorApp(config)
    assert app.violence.runtime.name == runtime or runtime == "auto"
    assert app.violence.runtime.name in ("torch", "openvino", "onnxruntime")
    assert app.run() == 0

    (request,) = fake_api.requests
    assert request.headers["Authorization"] == "Device key-corridor"
    assert request.fields["beacon_id"] == "beacon-corridor"
    assert float(request.fields["confidence_score"]) > 0.99
    assert 1 <= len(request.images) <= 3 and all(jpeg[:2] == b"\xff\xd8" for jpeg in request.images)
    details = json.loads(request.fields["details"])
    # The drawn figures are no people to the person detector: nothing is claimed about gender, priority stays high.
    assert (details["people"], details["female"], details["priority_hint"]) == (0, 0, "high")
    assert list((tmp_path / "spool" / "pending").iterdir()) == []
    status = [r.getMessage() for r in caplog.records if r.getMessage().startswith("camera corridor: ")]
    assert re.search(r"analysed \d+\.\d\d fps \(12 total\) \| skipped by motion gate 14 \| .*last score 1\.00", status[-1])
    assert "events 1" in status[-1]


class RecordingClassifier:
    """Wraps the real violence classifier to see which cameras share a batch."""

    def __init__(self, inner, batches):
        self.inner, self.batches, self.labels = inner, batches, inner.labels

    def scores(self, images, label):
        self.batches.append(len(images))
        return self.inner.scores(images, label)


def test_frames_from_several_cameras_share_one_model_batch(tmp_path, models, fake_api):
    cameras = [camera(f"c{i}", write_video(tmp_path / f"c{i}.avi", scene(0, 40, 0, seed=i), fps=10)) for i in range(3)]
    config = load_config(write_config(tmp_path, models, cameras, api={"base_url": fake_api.url}))
    app = DetectorApp(config)
    batches = []
    app.analyzer.violence = RecordingClassifier(app.violence, batches)
    assert app.run() == 0
    assert max(batches) > 1 and sum(batches) >= 3 * 6
    assert sorted(r.fields["device_id"] for r in fake_api.requests) == ["DEV-c0", "DEV-c1", "DEV-c2"]


def test_an_invalid_config_exits_with_status_two_and_says_why(tmp_path, caplog):
    path = tmp_path / "detector.yaml"
    path.write_text("cameras: []\n")
    assert main(["--config", str(path)]) == 2
    assert "cameras: List should have at least 1 item" in caplog.text


def test_a_missing_model_exits_with_status_three_naming_what_to_download(tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    video = write_video(tmp_path / "v.avi", scene(2, 0, 0))
    path = tmp_path / "detector.yaml"
    path.write_text(yaml.safe_dump({
        "cameras": [camera("a", video)],
        "models": {"violence": "jaranohaal/vit-base-violence-detection", "cache_dir": str(tmp_path / "cache")},
    }))
    assert main(["--config", str(path)]) == 3
    assert "hf download jaranohaal/vit-base-violence-detection" in caplog.text


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_python_m_detection_runs_until_signalled_and_then_stops_cleanly(tmp_path, models, fake_api, stop_signal):
    video = write_video(tmp_path / "loop.avi", scene(20, 0, 0), fps=10)
    config = write_config(tmp_path, models, [camera("lobby", video, loop=True, realtime=True)],
                          api={"base_url": fake_api.url})
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "detection", "--config", str(config)],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True,
    )
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("camera lobby: up" in line for line in lines):
            assert process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        process.send_signal(stop_signal)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
    reader.join(timeout=5)
    log = "".join(lines)
    assert f"received {stop_signal.name}; stopping" in log
    assert "detector stopped" in log
