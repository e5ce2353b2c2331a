"""The preparation commands: `calibrate` collects the cameras' own frames, `convert` fills the model cache, and a
camera host without torch then runs the worker on the converted models."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from detection.cli import main
from detection.tests.factories import (
    gender_model,
    save_gender_checkpoint,
    save_violence_checkpoint,
    scene,
    timm_vit_state_dict,
    write_video,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
# What a camera host installs from requirements-detection-runtime.txt lacks these (and what only they pull in).
ABSENT_ON_CAMERA_HOSTS = ("torch", "transformers", "functorch", "torchgen")


def write_config(tmp_path, cameras, **inference):
    models = tmp_path / "models"
    if not models.exists():
        save_violence_checkpoint(models / "violence", timm_vit_state_dict(violence_bias=6.0))
        save_gender_checkpoint(models / "gender", gender_model(female_bias=4.0))
    path = tmp_path / "detector.yaml"
    path.write_text(yaml.safe_dump({
        "cameras": cameras,
        "models": {"violence": str(models / "violence"), "gender": str(models / "gender")},
        "inference": {"threads": 2, "batch_size": 4, **inference},
        "decision": {"window": 3, "cooldown_s": 120},
        "publisher": {"spool_dir": "spool", "retry_initial_s": 0.05, "drain_timeout_s": 10},
    }))
    return path


def camera(name, video, **extra):
    return {"id": name, "source": str(video), "device_id": f"DEV-{name}", "device_key": f"key-{name}",
            "beacon_id": f"beacon-{name}", **extra}


# calibrate --------------------------------------------------------------------------------------------


def test_calibrate_keeps_frames_with_motion_and_makes_up_the_number_with_static_ones_only_when_short(tmp_path):
    busy = write_video(tmp_path / "busy.avi", scene(10, 40, 10), fps=10)
    quiet = write_video(tmp_path / "quiet.avi", scene(30, 0, 0), fps=10)
    config = write_config(tmp_path, [camera("busy", busy, analysis_fps=10), camera("quiet", quiet, analysis_fps=10)])

    assert main(["calibrate", "--config", str(config), "--frames", "12", "--max-seconds", "60"]) == 0

    busy_frames = sorted(p.name for p in (tmp_path / "calibration" / "busy").iterdir())
    quiet_frames = sorted(p.name for p in (tmp_path / "calibration" / "quiet").iterdir())
    assert busy_frames == [f"m-{i:05d}.jpg" for i in range(1, 13)]
    assert len(quiet_frames) == 12 and all(name.startswith("s-") for name in quiet_frames)


def test_calibrate_replaces_the_frames_of_an_earlier_run(tmp_path):
    video = write_video(tmp_path / "busy.avi", scene(0, 30, 0), fps=10)
    config = write_config(tmp_path, [camera("busy", video, analysis_fps=10)])
    stale = tmp_path / "calibration" / "busy" / "m-09999.jpg"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    assert main(["calibrate", "--config", str(config), "--frames", "5"]) == 0
    assert not stale.exists() and len(list(stale.parent.iterdir())) == 5


# convert, then a host without torch ---------------------------------------------------------------------


def without_torch(tmp_path) -> Path:
    """A site-packages of links to everything installed here except torch and what needs it, as on a camera host."""
    site = Path(sysconfig.get_paths()["purelib"])
    overlay = tmp_path / "camera-host-site-packages"
    overlay.mkdir()
    for entry in site.iterdir():
        name = entry.name.lower().replace("-", "_")
        if not any(name == p or name.startswith((f"{p}_", f"{p}.", f"{p}-")) for p in ABSENT_ON_CAMERA_HOSTS):
            (overlay / entry.name).symlink_to(entry)
    return overlay


def run_on_camera_host(tmp_path, *args) -> subprocess.CompletedProcess:
    overlay = without_torch(tmp_path)
    program = (
        "import sys\n"
        f"sys.path = [p for p in sys.path if not p.endswith('site-packages')] + [{str(overlay)!r}]\n"
        "import importlib.util\n"
        "assert importlib.util.find_spec('torch') is None and importlib.util.find_spec('transformers') is None\n"
        "from detection.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'torch was imported'\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", program, *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=240)


@pytest.mark.slow
def test_a_camera_host_without_torch_runs_the_models_convert_made(tmp_path, fake_api):
    video = write_video(tmp_path / "corridor.avi", scene(30, 60, 40), fps=10)
    config = write_config(tmp_path, [camera("corridor", video, analysis_fps=2)])
    config.write_text(config.read_text() + f"api:\n  base_url: {fake_api.url}\n")

    assert main(["convert", "--config", str(config)]) == 0
    entries = sorted(p.name.split("-")[0] + "-" + p.name.split("-")[2] for p in (tmp_path / "cache" / "models").iterdir()
                     if p.is_dir())
    assert entries == ["gender-onnxruntime", "gender-openvino", "violence-onnxruntime", "violence-openvino"]

    run = run_on_camera_host(tmp_path, "--config", str(config))

    assert run.returncode == 0, run.stderr[-3000:]
    assert "runtime auto: openvino" in run.stderr and "runtime auto: torch" not in run.stderr
    (report,) = fake_api.requests
    assert report.fields["device_id"] == "DEV-corridor" and float(report.fields["confidence_score"]) > 0.99


@pytest.mark.slow
def test_a_camera_host_without_torch_or_converted_models_says_how_to_get_them(tmp_path):
    video = write_video(tmp_path / "corridor.avi", scene(2, 0, 0), fps=10)
    config = write_config(tmp_path, [camera("corridor", video)], runtime="openvino", precision="fp32")

    run = run_on_camera_host(tmp_path, "--config", str(config))

    assert run.returncode == 3, run.stderr[-3000:]
    assert "converting it needs torch, which is not installed here" in run.stderr
    assert "python -m detection convert --config" in run.stderr
