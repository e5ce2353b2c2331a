"""Audio capture: any track becomes 16 kHz mono, a silent stream is reported once, a dropped stream is reopened."""

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from detection.audio.capture import SAMPLE_RATE, AudioInput, AudioRing, PyAVAudioSource
from detection.config import CaptureSettings
from detection.tests.audio_factories import (
    level,
    scream,
    silence,
    timeline,
    write_media,
)

FAST_RETRY = CaptureSettings(reconnect_initial_s=0.01, reconnect_max_s=0.05, open_timeout_s=5)


def read_all(source):
    chunks = list(source.chunks())
    return chunks, np.concatenate([c.samples for c in chunks]) if chunks else np.zeros(0, np.float32)


def test_a_stereo_44k_track_is_resampled_to_16k_mono_in_time(tmp_path):
    path = write_media(tmp_path / "clip.mp4", timeline(silence(2), scream(2), silence(2)), video_seconds=6)
    source = PyAVAudioSource(AudioInput("gate", str(path)), FAST_RETRY, threading.Event())

    chunks, samples = read_all(source)

    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size / SAMPLE_RATE - 6.0) < 0.1
    seconds = [level(samples[i * SAMPLE_RATE:(i + 1) * SAMPLE_RATE]) for i in range(6)]
    assert seconds[2] > -15 and seconds[3] > -15  # the burst sits where it was written
    assert seconds[0] < -50 and seconds[5] < -50
    assert chunks[0].ts == 0.0 and chunks[-1].ts == pytest.approx((samples.size - chunks[-1].samples.size) / SAMPLE_RATE)
    assert source.stats.state == "ended" and source.stats.reconnects == 0


def test_a_file_without_an_audio_track_is_reported_once_and_not_retried(tmp_path, caplog):
    path = write_media(tmp_path / "mute.mp4", None, video_seconds=2)
    opened = []

    def opener(*args, **kwargs):
        import av

        opened.append(args[0])
        return av.open(*args, **kwargs)

    source = PyAVAudioSource(AudioInput("mute-cam", str(path)), FAST_RETRY, threading.Event(), opener=opener)
    with caplog.at_level(logging.ERROR, logger="detection.audio.capture"):
        chunks, _ = read_all(source)

    assert chunks == [] and len(opened) == 1
    assert source.stats.state == "no_audio" and source.stats.reconnects == 0
    messages = [r.getMessage() for r in caplog.records if "no audio track" in r.getMessage()]
    assert len(messages) == 1 and "mute-cam" in messages[0]


class StreamServer:
    """Serves one MPEG-TS file over HTTP; each request's answer is scripted: 'missing', 'cut' (half) or 'full'."""

    def __init__(self, data: bytes, script: list[str]):
        self.data, self.script, self.requests = data, list(script), 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                answer = server.script.pop(0) if server.script else "full"
                if answer == "missing":
                    self.send_error(404)
                    return
                body = server.data if answer == "full" else server.data[: len(server.data) // 2]
                self.send_response(200)
                self.send_header("Content-Type", "video/mp2t")
                self.end_headers()
                self.wfile.write(body)  # no Content-Length: like a live stream, it ends when the connection does

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.http.server_address[1]}/live.ts"

    def close(self):
        self.http.shutdown()
        self.http.server_close()


def test_a_stream_that_drops_is_reopened_with_backoff_and_each_connection_is_numbered(tmp_path, caplog):
    data = write_media(tmp_path / "live.ts", timeline(silence(1), scream(1), silence(2)), video_seconds=4).read_bytes()
    server = StreamServer(data, ["missing", "cut", "full"])
    stop = threading.Event()
    source = PyAVAudioSource(AudioInput("street", server.url), FAST_RETRY, stop)
    seconds_by_connection: dict[int, float] = {}
    try:
        with caplog.at_level(logging.WARNING, logger="detection.audio.capture"):
            for chunk in source.chunks():
                seconds_by_connection[chunk.connection] = (
                    seconds_by_connection.get(chunk.connection, 0.0) + chunk.samples.size / SAMPLE_RATE
                )
                if chunk.connection == 2 and seconds_by_connection[2] >= 3.5:
                    stop.set()
    finally:
        server.close()

    assert set(seconds_by_connection) == {1, 2}
    assert 1.0 < seconds_by_connection[1] < 3.0  # the first connection was cut half way
    assert source.stats.reconnects >= 2 and server.requests >= 3
    assert any("reopening with backoff" in r.getMessage() for r in caplog.records)
    assert all("street" in r.getMessage() for r in caplog.records)


def test_the_ring_returns_exactly_what_was_written_whatever_the_chunk_sizes():
    ring = AudioRing(1000)
    signal = np.arange(2500, dtype=np.float32)
    position = 0
    for size in (7, 300, 999, 1, 450, 743):
        ring.write(signal[position:position + size])
        position += size
    assert ring.total == 2500
    assert np.array_equal(ring.read(2500, 1000), signal[1500:2500])
    assert np.array_equal(ring.read(2200, 600), signal[1600:2200])
    with pytest.raises(ValueError):
        ring.read(1400, 100)  # already overwritten


def test_the_ring_pads_the_start_of_a_stream_with_silence():
    ring = AudioRing(1000)
    ring.write(np.ones(300, np.float32))
    window = ring.read(300, 800)
    assert np.all(window[:500] == 0) and np.all(window[500:] == 1)
