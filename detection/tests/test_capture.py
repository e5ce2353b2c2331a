"""Capture: files are sampled at the analysis rate, lost streams are reopened with backoff, and outages are reported."""

import functools
import logging
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from detection.capture import OpenCVSource, redact
from detection.config import CameraConfig, CaptureSettings
from detection.tests.factories import write_video

FAST_RETRY = CaptureSettings(reconnect_initial_s=0.05, reconnect_max_s=0.2, down_after_s=0.5, open_timeout_s=2)


def camera(source, **options):
    return CameraConfig(id="cam", source=str(source), device_id="D", device_key="k", beacon_id="b", **options)


def numbered_frames(count):
    """Frame i is a flat grey of level 5*i, so a decoded frame tells which one it was."""
    return [np.full((120, 160, 3), 5 * i, np.uint8) for i in range(count)]


def frame_number(image):
    return round(float(image.mean()) / 5)


class Collector:
    """Runs a source in a thread, as the worker does, and keeps what it yields."""

    def __init__(self, source):
        self.source, self.frames = source, []
        self.thread = threading.Thread(target=lambda: self.frames.extend(source.frames()), daemon=True)
        self.thread.start()

    def wait_for(self, condition, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out; stats: {self.source.stats}"
            time.sleep(0.02)


def test_a_video_file_is_sampled_at_the_analysis_rate_in_video_time(tmp_path):
    video = write_video(tmp_path / "v.avi", numbered_frames(40), fps=10)
    source = OpenCVSource(camera(video, analysis_fps=2), FAST_RETRY, threading.Event())
    frames = list(source.frames())
    assert [f.ts for f in frames] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5])
    assert [frame_number(f.image) for f in frames] == [0, 5, 10, 15, 20, 25, 30, 35]
    assert source.stats.state == "ended" and source.stats.frames_read == 40


def test_a_looping_file_restarts_with_stream_time_still_increasing(tmp_path):
    video = write_video(tmp_path / "v.avi", numbered_frames(10), fps=10)
    stop = threading.Event()
    frames = []
    for frame in OpenCVSource(camera(video, analysis_fps=5, loop=True), FAST_RETRY, stop).frames():
        frames.append(frame)
        if len(frames) == 12:
            stop.set()
    assert [frame_number(f.image) for f in frames] == [0, 2, 4, 6, 8] * 2 + [0, 2]
    assert all(b.ts > a.ts for a, b in zip(frames, frames[1:]))


def test_a_realtime_file_is_paced_like_a_live_camera(tmp_path):
    video = write_video(tmp_path / "v.avi", numbered_frames(10), fps=10)
    started = time.monotonic()
    frames = list(OpenCVSource(camera(video, realtime=True), FAST_RETRY, threading.Event()).frames())
    assert time.monotonic() - started >= 0.85
    assert len(frames) == 2


def test_a_source_that_cannot_be_opened_is_retried_with_backoff_until_it_appears(tmp_path, caplog):
    path = tmp_path / "late.avi"
    stop = threading.Event()
    collector = Collector(OpenCVSource(camera(path), FAST_RETRY, stop))
    stats = collector.source.stats
    collector.wait_for(lambda: stats.state == "down")
    assert stats.down_events == 1 and stats.reconnects >= 3
    write_video(path, numbered_frames(20), fps=10)
    collector.thread.join(timeout=10)
    assert stats.state == "ended" and len(collector.frames) == 4
    assert "is down" in caplog.text


def test_a_network_stream_that_drops_is_reopened_and_an_outage_is_counted_once(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="detection")
    write_video(tmp_path / "live.avi", numbered_frames(20), fps=10)
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = serve(handler, 0)
    port = server.server_address[1]
    stop = threading.Event()
    collector = Collector(OpenCVSource(camera(f"http://127.0.0.1:{port}/live.avi", analysis_fps=5), FAST_RETRY, stop))
    stats = collector.source.stats
    try:
        # The HTTP "stream" ends every 20 frames, which for a live source is a dropped connection.
        collector.wait_for(lambda: stats.reconnects >= 2 and len(collector.frames) >= 2)
        stop_server(server)
        collector.wait_for(lambda: stats.state == "down")
        frames_while_down = len(collector.frames)
        server = serve(handler, port)
        collector.wait_for(lambda: len(collector.frames) > frames_while_down)
        assert stats.down_events == 1
        assert "reopening with backoff" in caplog.text and "is down" in caplog.text
    finally:
        stop.set()
        stop_server(server)
        collector.thread.join(timeout=10)
    assert not collector.thread.is_alive()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(handler, port):
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop_server(server):
    server.shutdown()
    server.server_close()


def test_stream_credentials_never_reach_the_log():
    assert redact("rtsp://admin:hunter2@10.0.0.2:554/stream1") == "rtsp://***@10.0.0.2:554/stream1"
    assert redact("http://10.0.0.2/video.mjpg") == "http://10.0.0.2/video.mjpg"
    assert redact(0) == "0"
