"""The optional pre-roll clip: the kept key frames as a short WebM, bounded in size, delivered with the frames."""

import threading

import cv2
import numpy as np

from detection.clips import encode_clip
from detection.config import ApiSettings, PublisherSettings
from detection.health import HealthMonitor, Heartbeats
from detection.publisher import HttpPublisher
from detection.tests.test_health import FixedClock, ListSource, config
from detection.tests.test_publisher import wait_until


def frames_of(clip: bytes, tmp_path) -> list[np.ndarray]:
    path = tmp_path / "clip.webm"
    path.write_bytes(clip)
    capture, frames = cv2.VideoCapture(str(path)), []
    while (read := capture.read())[0]:
        frames.append(read[1])
    return frames


def jpegs(count, size=(48, 64)):
    return [cv2.imencode(".jpg", np.full((*size, 3), 40 * i, np.uint8))[1].tobytes() for i in range(count)]


def test_key_frames_become_a_webm_clip_with_one_frame_each_in_order(tmp_path):
    clip = encode_clip(jpegs(5), fps=1.0, max_bytes=1_000_000)

    assert clip[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM file
    frames = frames_of(clip, tmp_path)
    assert [f.shape for f in frames] == [(48, 64, 3)] * 5
    assert [round(f.mean() / 40) for f in frames] == [0, 1, 2, 3, 4]


def test_a_clip_over_the_limit_is_made_smaller_and_left_out_when_still_too_big(tmp_path):
    noisy = [cv2.imencode(".jpg", np.random.default_rng(n).integers(0, 255, (480, 640, 3), np.uint8))[1].tobytes()
             for n in range(4)]
    full = encode_clip(noisy, fps=1.0, max_bytes=50_000_000)
    smaller = encode_clip(noisy, fps=1.0, max_bytes=len(full) - 1)
    assert smaller is not None and len(smaller) < len(full)
    assert frames_of(smaller, tmp_path)[0].shape[:2] == (240, 320)
    assert encode_clip(noisy, fps=1.0, max_bytes=100) is None


def test_with_the_flag_on_the_pre_roll_carries_a_clip_and_the_publisher_delivers_it_with_the_frames(fake_api,
                                                                                                      tmp_path):
    sent = []
    cfg = config(fake_api.url, preroll_s=4, preroll_frames=4, preroll_clip=True)
    monitor = HealthMonitor(cfg, clock=FixedClock())
    sources = monitor.observe({cid: ListSource(cid, 0) for cid in ("hall", "yard")} | {"gate": ListSource("gate", 20)})
    list(sources["gate"].frames())
    fake_api.heartbeat_answer = {"cameras": {"gate": {"focus": True, "focus_sos": [7]}}}
    Heartbeats(cfg, monitor, threading.Event(), send=sent.append).beat()
    (evidence,) = sent
    assert len(frames_of(evidence.clip, tmp_path)) == len(evidence.images) == 5

    publisher = HttpPublisher(ApiSettings(base_url=fake_api.url), PublisherSettings(spool_dir=str(tmp_path / "spool")),
                              {"CAM-01": "key-1"})
    publisher.start()
    try:
        publisher.send(evidence)
        wait_until(lambda: fake_api.requests)
    finally:
        publisher.stop()
    (request,) = fake_api.requests
    assert request.path == "/api/devices/sos-evidence/" and len(request.images) == 5
    assert request.files["clip"] == ("clip.webm", "video/webm", evidence.clip)


def test_the_clip_is_off_unless_asked_for(fake_api):
    sent = []
    cfg = config(fake_api.url, preroll_s=4, preroll_frames=4)
    monitor = HealthMonitor(cfg, clock=FixedClock())
    sources = monitor.observe({cid: ListSource(cid, 0) for cid in ("hall", "yard")} | {"gate": ListSource("gate", 8)})
    list(sources["gate"].frames())
    fake_api.heartbeat_answer = {"cameras": {"gate": {"focus": True, "focus_sos": [7]}}}
    Heartbeats(cfg, monitor, threading.Event(), send=sent.append).beat()
    assert sent[0].clip == b"" and sent[0].images
