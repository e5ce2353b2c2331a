"""Camera health in the worker: what the monitor sees of each camera, and heartbeats to the platform."""

import logging
import threading

import cv2
import numpy as np
import pytest

from detection.capture import CaptureStats, Frame, FrameSource, OpenCVSource
from detection.config import CaptureSettings, DetectorConfig
from detection.health import HealthMonitor, Heartbeats, TimedClassifier
from detection.models.classifiers import Classifier
from detection.pipeline import CameraStats
from detection.tests.factories import write_video


class ListSource(FrameSource):
    def __init__(self, camera_id, count, state="up"):
        self.camera_id, self.count = camera_id, count
        self.stats = CaptureStats(state=state)

    @property
    def lossless(self):
        return True

    def frames(self):
        for i in range(self.count):
            yield Frame(self.camera_id, np.full((48, 64, 3), i, np.uint8), float(i), 1_767_225_600.0 + i)


def config(api_url="http://127.0.0.1:9", **health):
    return DetectorConfig.model_validate({
        "cameras": [
            {"id": "gate", "source": 0, "device_id": "CAM-01", "device_key": "key-1", "beacon_id": "b"},
            {"id": "hall", "source": 1, "device_id": "CAM-01", "device_key": "key-1", "beacon_id": "b"},
            {"id": "yard", "source": 2, "device_id": "CAM-02", "device_key": "key-2", "beacon_id": "b"},
        ],
        "api": {"base_url": api_url, "timeout_s": 2},
        "health": {"heartbeat_interval_s": 1, **health},
    })


class FixedClock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


def test_the_monitor_reports_state_rates_motion_share_and_the_last_frame_of_a_camera():
    clock = FixedClock()
    monitor = HealthMonitor(config(), clock=clock)
    sources = monitor.observe({"gate": ListSource("gate", 5), "hall": ListSource("hall", 0, state="reconnecting"),
                               "yard": ListSource("yard", 0, state="down")})
    monitor.stats = {cid: CameraStats() for cid in ("gate", "hall", "yard")}
    monitor.snapshot("gate")  # the baseline for rates
    frames = list(sources["gate"].frames())
    monitor.stats["gate"].analysed, monitor.stats["gate"].skipped_static, monitor.stats["gate"].dropped = 3, 1, 2
    clock.t += 2.0

    gate = monitor.snapshot("gate")
    assert (gate["state"], gate["fps"], gate["motion_share"], gate["dropped_frames"]) == ("ok", 2.0, 0.75, 2)
    assert gate["last_frame_at"] == "2026-01-01T00:00:04+00:00" and gate["frames"] == 5
    assert monitor.latest_image("gate") is frames[-1].image
    assert monitor.snapshot("hall")["state"] == "reconnecting" and monitor.snapshot("yard")["state"] == "down"
    assert monitor.snapshot("hall")["motion_share"] is None


def test_a_failing_frame_watcher_never_stops_the_capture(caplog):
    monitor = HealthMonitor(config())
    monitor.watchers.append(lambda frame: 1 / 0)
    sources = monitor.observe({"gate": ListSource("gate", 3)})
    assert len(list(sources["gate"].frames())) == 3
    assert "a frame watcher failed" in caplog.text


def test_heartbeats_go_once_per_device_with_its_key_and_its_cameras(fake_api):
    monitor = HealthMonitor(config(fake_api.url))
    monitor.observe({cid: ListSource(cid, 0) for cid in ("gate", "hall", "yard")})
    Heartbeats(config(fake_api.url), monitor, threading.Event()).beat()

    by_key = {beat["authorization"]: beat for beat in fake_api.heartbeats}
    assert sorted(by_key) == ["Device key-1", "Device key-2"]
    assert [c["camera_id"] for c in by_key["Device key-1"]["cameras"]] == ["gate", "hall"]
    assert set(by_key["Device key-2"]["cameras"][0]) == {
        "camera_id", "state", "fps", "dropped_frames", "last_frame_at", "model_latency_ms", "motion_share"}
    assert fake_api.requests == []  # no detection report was sent


def test_a_focus_request_in_the_answer_is_kept_and_logged_once(fake_api, caplog):
    caplog.set_level(logging.WARNING, logger="detection")
    fake_api.heartbeat_answer = {"cameras": {"gate": {"health": "ok", "focus": True, "focus_sos": [7]}},
                                 "unknown_cameras": ["yard"]}
    monitor = HealthMonitor(config(fake_api.url))
    monitor.observe({cid: ListSource(cid, 0) for cid in ("gate", "hall", "yard")})
    beats = Heartbeats(config(fake_api.url), monitor, threading.Event())
    beats.beat()
    beats.beat()
    assert monitor.health["gate"].focus_sos == [7]
    assert caplog.text.count("linked to open SOS 7") == 1


def test_an_unreachable_platform_is_logged_once_and_never_raises(caplog):
    monitor = HealthMonitor(config("http://127.0.0.1:9"))
    monitor.observe({cid: ListSource(cid, 0) for cid in ("gate", "hall", "yard")})
    beats = Heartbeats(config("http://127.0.0.1:9"), monitor, threading.Event())
    beats.beat()
    beats.beat()
    assert beats.failed == 4 and beats.sent == 0
    assert caplog.text.count("heartbeat not accepted") == 1


class SlowModel(Classifier):
    labels = ("calm", "violence")

    def __init__(self):
        self.calls = 0

    def predict(self, images):
        self.calls += 1
        threading.Event().wait(0.02)  # the model's work, simulated
        return np.tile([0.1, 0.9], (len(images), 1))


def test_the_timed_model_measures_milliseconds_per_image_and_answers_as_the_model():
    model = TimedClassifier(SlowModel())
    scores = model.scores([np.zeros((4, 4, 3), np.uint8)] * 2, "violence")
    assert scores.tolist() == pytest.approx([0.9, 0.9])
    assert 5 <= model.ms_per_image < 200
    assert model.calls == 1  # attributes of the wrapped model pass through


def test_a_focus_request_sends_the_kept_key_frames_once_per_sos(fake_api):
    sent = []
    cfg = config(fake_api.url, preroll_s=4, preroll_frames=4)
    clock = FixedClock()
    monitor = HealthMonitor(cfg, clock=clock)
    sources = monitor.observe({cid: ListSource(cid, 0) for cid in ("hall", "yard")} | {"gate": ListSource("gate", 20)})
    beats = Heartbeats(cfg, monitor, threading.Event(), send=sent.append)
    fake_api.heartbeat_answer = {"cameras": {"gate": {"focus": True, "focus_sos": [7]}}}
    beats.beat()
    assert sent == []  # no frame kept yet: it will try again on the next answer
    list(sources["gate"].frames())  # 20 frames, one a second
    beats.beat()
    beats.beat()

    (evidence,) = sent
    assert evidence.path == "/api/devices/sos-evidence/" and evidence.details["sos_id"] == 7
    # One key frame a second over the last 4 s: the frames at 15..19 s.
    assert evidence.details["captured_at"][0] == "2026-01-01T00:00:15+00:00" and len(evidence.images) == 5
    assert all(jpeg[:2] == b"\xff\xd8" for jpeg in evidence.images)


def test_a_camera_watching_an_open_sos_is_analysed_faster_and_slows_down_when_it_closes(fake_api, tmp_path):
    video = write_video(tmp_path / "v.avi", [np.full((48, 64, 3), 5 * i, np.uint8) for i in range(40)], fps=10)
    cfg = DetectorConfig.model_validate({
        "cameras": [{"id": "gate", "source": str(video), "device_id": "CAM-01", "device_key": "k", "beacon_id": "b",
                     "analysis_fps": 1}],
        "api": {"base_url": fake_api.url}, "health": {"focus_analysis_fps": 5},
    })
    monitor = HealthMonitor(cfg)
    sources = monitor.observe({"gate": OpenCVSource(cfg.cameras[0], CaptureSettings(), threading.Event())})
    beats = Heartbeats(cfg, monitor, threading.Event())
    fake_api.heartbeat_answer = {"cameras": {"gate": {"focus": True, "focus_sos": [3]}}}
    beats.beat()
    focused = [f.ts for f in sources["gate"].frames()]
    fake_api.heartbeat_answer = {"cameras": {"gate": {"focus": False, "focus_sos": []}}}
    beats.beat()
    relaxed = [f.ts for f in sources["gate"].frames()]

    assert focused == pytest.approx([i * 0.2 for i in range(20)])  # 5 fps over the 4 s video
    assert relaxed == pytest.approx([0.0, 1.0, 2.0, 3.0])  # back to its own 1 fps


def test_a_snapshot_request_in_the_answer_sends_the_latest_frame_once(fake_api):
    sent = []
    cfg = config(fake_api.url)
    monitor = HealthMonitor(cfg)
    sources = monitor.observe({cid: ListSource(cid, 0) for cid in ("hall", "yard")} | {"gate": ListSource("gate", 20)})
    beats = Heartbeats(cfg, monitor, threading.Event(), send=sent.append)
    fake_api.heartbeat_answer = {"cameras": {"gate": {"focus": False, "focus_sos": [], "snapshot_requests": [41]}}}
    beats.beat()
    assert sent == []  # no frame seen yet: it will try again on the next answer
    list(sources["gate"].frames())
    beats.beat()
    beats.beat()  # still listed while the spool delivers: not sent twice

    (upload,) = sent
    assert upload.path == "/api/devices/camera-snapshot/"
    assert upload.details == {"camera": "gate", "snapshot_id": 41, "captured_at": "2026-01-01T00:00:19+00:00"}
    frame = cv2.imdecode(np.frombuffer(upload.images[0], np.uint8), cv2.IMREAD_GRAYSCALE)
    assert frame.shape == (48, 64) and abs(int(frame.mean()) - 19) <= 2  # the latest frame (shade 19)
    fake_api.heartbeat_answer = {"cameras": {"gate": {"snapshot_requests": []}}}
    beats.beat()
    assert monitor.health["gate"].snapshots_sent == set()
