"""Audio capture: decode a stream's sound with PyAV, resample it to 16 kHz mono, reopen lost streams with backoff."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import av
import numpy as np

from detection.capture import redact
from detection.config import CaptureSettings, source_kind
from detection.reconnect import Reconnector

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
PACE_SLACK_S = 0.1


@dataclass(frozen=True)
class AudioInput:
    """One thing to listen to: a camera's stream (or its separate audio source) or a standalone microphone."""

    id: str
    source: str
    input_format: str | None = None
    loop: bool = False
    realtime: bool = False

    @property
    def kind(self) -> str:
        return "device" if self.input_format else source_kind(self.source)


@dataclass(frozen=True)
class AudioChunk:
    """Decoded samples (float32 in [-1, 1], 16 kHz mono); ts is the stream time of the first sample."""

    source_id: str
    samples: np.ndarray
    ts: float
    connection: int  # increases at every (re)open, so consumers know not to stitch across a gap


@dataclass
class AudioCaptureStats:
    state: str = "starting"  # starting, up, reconnecting, down, ended, no_audio, failed
    seconds_read: float = 0.0
    reconnects: int = 0
    down_events: int = 0
    last_error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class NoAudioTrack(Exception):
    """The source opened but carries no sound; retrying would not change that."""


class PyAVAudioSource:
    """Files, RTSP/HTTP streams and local capture devices through FFmpeg, as an iterator of 16 kHz mono chunks."""

    def __init__(
        self,
        audio: AudioInput,
        settings: CaptureSettings,
        stop: threading.Event,
        clock: Callable[[], float] = time.monotonic,
        opener: Callable[..., av.container.InputContainer] = av.open,
    ):
        self.audio, self.settings, self.stop, self.clock, self.opener = audio, settings, stop, clock, opener
        self.stats = AudioCaptureStats()

    @property
    def lossless(self) -> bool:
        """A file read as fast as it decodes: every window must be analysed, none dropped."""
        return self.audio.kind == "file" and not self.audio.realtime

    def chunks(self) -> Iterator[AudioChunk]:
        reconnect = Reconnector(what=f"audio {self.audio.id}", source=redact(self.audio.source), lost="sound",
                                settings=self.settings, stats=self.stats, stop=self.stop, clock=self.clock,
                                logger=logger)
        file_offset, connection = 0.0, 0
        while not self.stop.is_set():
            try:
                container = self._open()
            except NoAudioTrack:
                self._no_audio()
                return
            except (av.FFmpegError, OSError) as exc:
                reconnect.failed(f"cannot open the source: {exc}")
                continue
            connection += 1
            reconnect.set_state("up")
            read = 0
            try:
                for chunk in self._decode(container, file_offset, connection):
                    read += chunk.samples.size
                    reconnect.delivered()
                    yield chunk
                error = ""
            except (av.FFmpegError, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            finally:
                container.close()
            file_offset += read / SAMPLE_RATE
            if self.audio.kind == "file" and read and not error and not self.stop.is_set():
                if self.audio.loop:
                    continue
                reconnect.set_state("ended")
                logger.info("audio %s: end of file %s", self.audio.id, self.audio.source)
                return
            if not self.stop.is_set():
                reconnect.failed(error or "the stream stopped delivering sound")

    def _open(self) -> av.container.InputContainer:
        options = {}
        if self.audio.kind == "url":
            # FFmpeg's timeouts are in microseconds; rw_timeout covers every protocol, stimeout older RTSP builds.
            micros = str(int(self.settings.open_timeout_s * 1_000_000))
            options = {"rw_timeout": micros, "timeout": micros}
        container = self.opener(
            self.audio.source, format=self.audio.input_format, options=options, timeout=self.settings.open_timeout_s
        )
        if not container.streams.audio:
            container.close()
            raise NoAudioTrack
        return container

    def _decode(self, container, offset: float, connection: int) -> Iterator[AudioChunk]:
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        # The resampler also mixes down to mono and converts to float, whatever the track's layout and format.
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        started, position = self.clock(), 0
        for packet in container.demux(stream):
            if self.stop.is_set():
                return
            for frame in packet.decode():
                for out in resampler.resample(frame):
                    chunk = self._chunk(out, offset, started, position, connection)
                    position += chunk.samples.size
                    yield chunk
        for out in resampler.resample(None):
            chunk = self._chunk(out, offset, started, position, connection)
            position += chunk.samples.size
            yield chunk

    def _chunk(self, frame: av.AudioFrame, offset: float, started: float, position: int, connection: int) -> AudioChunk:
        samples = frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)
        if self.audio.kind == "file":
            ts = offset + position / SAMPLE_RATE
            if self.audio.realtime:
                # Sleeping only once a tenth of a second is due keeps a paced file to about ten wake-ups a second.
                delay = started + position / SAMPLE_RATE - self.clock()
                if delay > PACE_SLACK_S:
                    self.stop.wait(delay)
        else:
            # A live source's time is when its first sample arrived plus what has been read since: decoding
            # bursts (network jitter) do not stretch or squeeze the timeline.
            ts = started + position / SAMPLE_RATE
        with self.stats.lock:
            self.stats.seconds_read += samples.size / SAMPLE_RATE
        return AudioChunk(self.audio.id, samples, ts, connection)

    def _no_audio(self) -> None:
        with self.stats.lock:
            self.stats.state, self.stats.last_error = "no_audio", "the source has no audio track"
        logger.error(
            "audio %s: %s has no audio track; sound is not analysed for it (not retried)",
            self.audio.id, redact(self.audio.source),
        )


class AudioRing:
    """The last `capacity` samples of one source, with a running count of every sample ever written."""

    def __init__(self, capacity: int):
        self._buffer = np.zeros(capacity, dtype=np.float32)
        self.capacity = capacity
        self.total = 0  # samples written since the last reset

    def write(self, samples: np.ndarray) -> None:
        samples = samples[-self.capacity:]
        start = self.total % self.capacity
        first = min(samples.size, self.capacity - start)
        self._buffer[start:start + first] = samples[:first]
        self._buffer[:samples.size - first] = samples[first:]
        self.total += samples.size

    def read(self, end: int, length: int) -> np.ndarray:
        """A copy of the `length` samples ending at absolute position `end`; zeros stand for what was never written."""
        if not self.total - self.capacity <= end <= self.total:
            raise ValueError(f"samples up to {end} are not in the ring (it holds up to {self.total})")
        out = np.zeros(length, dtype=np.float32)
        begin = max(end - length, 0, self.total - self.capacity)
        count = end - begin
        if count <= 0:
            return out
        start = begin % self.capacity
        first = min(count, self.capacity - start)
        out[length - count:length - count + first] = self._buffer[start:start + first]
        out[length - count + first:] = self._buffer[:count - first]
        return out

    def reset(self) -> None:
        self.total = 0
        self._buffer[:] = 0
