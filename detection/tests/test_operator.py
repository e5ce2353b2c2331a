"""The worker's operator endpoint: /healthz, /stats, /metrics and snapshots, alone and on a running worker."""

import threading
import time

import cv2
import numpy as np
import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from detection.app import DetectorApp
from detection.config import DetectorConfig, load_config
from detection.health import HealthMonitor
from detection.operator import OperatorEndpoint
from detection.tests.factories import (
    gender_model,
    save_gender_checkpoint,
    save_violence_checkpoint,
    scene,
    timm_vit_state_dict,
    write_video,
)
from detection.tests.test_health import ListSource

REGION = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]


def config(**operator):
    return DetectorConfig.model_validate({
        "cameras": [
            {"id": "gate", "source": 0, "device_id": "CAM-01", "device_key": "k", "beacon_id": "b",
             "region_mask": [REGION]},
            {"id": "yard", "source": 1, "device_id": "CAM-01", "device_key": "k", "beacon_id": "b"},
        ],
        "operator": {"port": 0, **operator},
    })


@pytest.fixture
def endpoint():
    monitor = HealthMonitor(config())
    sources = monitor.observe({"gate": ListSource("gate", 3), "yard": ListSource("yard", 0, state="down")})
    list(sources["gate"].frames())
    endpoint = OperatorEndpoint(config(), monitor, lambda: {"runtime": {"device": "cpu", "precision": "fp32"},
                                                            "counters": {"publisher_pending": 2}})
    endpoint.start()
    yield endpoint
    endpoint.stop()


def test_it_binds_to_localhost_unless_told_otherwise(endpoint):
    assert endpoint.server.server_address[0] == "127.0.0.1"


def test_healthz_is_ok_while_a_camera_delivers_and_503_when_every_camera_is_down(endpoint):
    answer = requests.get(endpoint.url + "/healthz", timeout=5)
    assert answer.status_code == 200 and answer.json()["cameras"] == {"gate": "ok", "yard": "down"}
    endpoint.monitor.sources["gate"].stats.state = "down"
    assert requests.get(endpoint.url + "/healthz", timeout=5).status_code == 503


def test_stats_give_each_cameras_figures_and_the_runtime(endpoint):
    stats = requests.get(endpoint.url + "/stats", timeout=5).json()
    assert stats["cameras"]["gate"]["frames"] == 3 and stats["cameras"]["yard"]["state"] == "down"
    assert stats["runtime"] == {"device": "cpu", "precision": "fp32"}


def _samples(text: str) -> dict:
    return {(s.name, s.labels.get("camera")): s.value for family in text_string_to_metric_families(text)
            for s in family.samples}


def test_metrics_are_valid_prometheus_text_labelled_by_camera(endpoint):
    samples = _samples(requests.get(endpoint.url + "/metrics", timeout=5).text)
    assert samples[("naarikavach_camera_up", "gate")] == 1 and samples[("naarikavach_camera_up", "yard")] == 0
    assert samples[("naarikavach_camera_frames_total", "gate")] == 3
    assert samples[("naarikavach_camera_fps", "gate")] == 0  # the first scrape: no interval yet
    assert samples[("naarikavach_publisher_pending", None)] == 2


def test_a_snapshot_is_the_latest_frame_with_the_analysed_region_drawn_on_request(endpoint):
    plain = requests.get(endpoint.url + "/cameras/gate/snapshot.jpg", timeout=5)
    assert plain.headers["Content-Type"] == "image/jpeg" and plain.headers["Cache-Control"] == "no-store"
    image = cv2.imdecode(np.frombuffer(plain.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (48, 64, 3) and int(image[:, :, 1].max()) < 60  # the last frame is a dark grey
    drawn = cv2.imdecode(np.frombuffer(requests.get(endpoint.url + "/cameras/gate/snapshot.jpg?regions=1",
                                                    timeout=5).content, np.uint8), cv2.IMREAD_COLOR)
    assert int(drawn[:, :, 1].max()) > 200  # the green outline


@pytest.mark.parametrize("path, status", [("/cameras/nope/snapshot.jpg", 404), ("/cameras/yard/snapshot.jpg", 503),
                                          ("/admin", 404), ("/cameras/gate", 404)])
def test_unknown_paths_cameras_and_missing_frames_get_a_json_error(endpoint, path, status):
    answer = requests.get(endpoint.url + path, timeout=5)
    assert answer.status_code == status and "error" in answer.json()


@pytest.mark.slow
def test_the_endpoints_answer_on_a_running_worker(tmp_path, fake_api):
    models = tmp_path / "models"
    save_violence_checkpoint(models / "violence", timm_vit_state_dict(violence_bias=-6.0))
    save_gender_checkpoint(models / "gender", gender_model(female_bias=0.0))
    video = write_video(tmp_path / "corridor.avi", scene(10, 20, 10), fps=10)
    path = tmp_path / "detector.yaml"
    path.write_text(yaml.safe_dump({
        "cameras": [{"id": "corridor", "source": str(video), "device_id": "CAM-01", "device_key": "k",
                     "beacon_id": "b", "loop": True, "realtime": True, "analysis_fps": 5}],
        "models": {"violence": str(models / "violence"), "gender": str(models / "gender")},
        "api": {"base_url": fake_api.url}, "publisher": {"spool_dir": str(tmp_path / "spool")},
        "operator": {"port": 0}, "health": {"heartbeat_interval_s": 0.5},
    }))
    app = DetectorApp(load_config(path))
    runner = threading.Thread(target=app.run)
    runner.start()
    try:
        deadline = time.monotonic() + 60
        stats = {}
        while time.monotonic() < deadline and stats.get("cameras", {}).get("corridor", {}).get("analysed", 0) < 3:
            threading.Event().wait(0.2)  # polling the condition below
            stats = requests.get(app.operator.url + "/stats", timeout=5).json()
        corridor = stats["cameras"]["corridor"]
        assert corridor["state"] == "ok" and corridor["analysed"] >= 3 and corridor["model_latency_ms"] > 0
        assert stats["runtime"]["precision"] in ("fp32", "bf16", "int8")
        assert requests.get(app.operator.url + "/healthz", timeout=5).status_code == 200
        snapshot = requests.get(app.operator.url + "/cameras/corridor/snapshot.jpg", timeout=5)
        assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"
        assert fake_api.heartbeats and fake_api.heartbeats[-1]["cameras"][0]["camera_id"] == "corridor"
        # Prometheus: the camera's counters move between two scrapes, its fps is that of the scrapes' interval.
        first = _samples(requests.get(app.operator.url + "/metrics", timeout=5).text)
        later = first
        deadline = time.monotonic() + 60
        while (time.monotonic() < deadline and later[("naarikavach_camera_analysed_total", "corridor")]
               <= first[("naarikavach_camera_analysed_total", "corridor")]):
            threading.Event().wait(0.2)  # polling the condition above
            later = _samples(requests.get(app.operator.url + "/metrics", timeout=5).text)
        assert later[("naarikavach_camera_analysed_total", "corridor")] > first[("naarikavach_camera_analysed_total",
                                                                                   "corridor")]
        assert later[("naarikavach_camera_fps", "corridor")] > 0
        assert later[("naarikavach_model_latency_ms", None)] > 0
        assert ("naarikavach_camera_skipped_static_total", "corridor") in later
        assert ("naarikavach_camera_dropped_total", "corridor") in later
        assert ("naarikavach_camera_events_total", "corridor") in later
    finally:
        app.stop.set()
        runner.join(timeout=60)
