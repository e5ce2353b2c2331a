"""Capture: read a camera with OpenCV, sample it at the analysis rate, and reopen lost streams with backoff."""

from __future__ import annotations

import logging
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from detection.config import CameraConfig, CaptureSettings
from detection.reconnect import Reconnector

logger = logging.getLogger(__name__)

# Files without a usable frame rate in their header are assumed to be at this rate.
FALLBACK_FILE_FPS = 25.0


def redact(source: str | int) -> str:
    """The source as it may appear in logs: without the user and password of an rtsp://user:pass@host URL."""
    return re.sub(r"(?<=://)[^/@]+@", "***@", str(source))


@dataclass
class Frame:
    """One sampled frame: BGR pixels, the stream time used for decisions, and the wall-clock time it was read."""

    camera_id: str
    image: np.ndarray
    ts: float
    wall_time: float


@dataclass
class CaptureStats:
    state: str = "starting"  # starting, up, reconnecting, down, ended
    frames_read: int = 0
    frames_sampled: int = 0
    reconnects: int = 0
    down_events: int = 0
    last_error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class FrameSource(ABC):
    """A camera as an iterator of sampled frames; it ends only when the source is finite or stop is set."""

    stats: CaptureStats

    @abstractmethod
    def frames(self) -> Iterator[Frame]: ...

    @property
    @abstractmethod
    def lossless(self) -> bool:
        """True when frames must not be dropped downstream (a file replayed as fast as it can be analysed)."""


class _Sampler:
    """Decides which frames to keep so that the analysis rate holds whatever the source's rate is."""

    def __init__(self, fps: float):
        self.interval = 1.0 / fps
        self.next_ts: float | None = None

    def take(self, ts: float) -> bool:
        if self.next_ts is None or ts >= self.next_ts - 1e-6:
            # Catch up in whole steps after a stall, instead of bursting through every missed slot.
            base = ts if self.next_ts is None or ts - self.next_ts > self.interval else self.next_ts
            self.next_ts = base + self.interval
            return True
        return False


class OpenCVSource(FrameSource):
    """Files, RTSP/HTTP streams and local devices through cv2.VideoCapture."""

    def __init__(
        self,
        camera: CameraConfig,
        settings: CaptureSettings,
        stop: threading.Event,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.camera = camera
        self.settings = settings
        self.stop = stop
        self.clock = clock
        self.stats = CaptureStats()
        self._is_file = camera.kind == "file"
        self._fps = FALLBACK_FILE_FPS
        self._last_ts = 0.0
        # Set while the platform asks for a close look (a linked SOS is open); None: the configured rate.
        self.analysis_fps_override: float | None = None

    @property
    def lossless(self) -> bool:
        return self._is_file and not self.camera.realtime

    def frames(self) -> Iterator[Frame]:
        reconnect = Reconnector(what=f"camera {self.camera.id}", source=redact(self.camera.source), lost="frames",
                                settings=self.settings, stats=self.stats, stop=self.stop, clock=self.clock,
                                logger=logger)
        ts_offset = 0.0
        while not self.stop.is_set():
            capture = self._open()
            if capture is None:
                reconnect.failed("cannot open the source")
                continue
            reconnect.set_state("up")
            got_any = False
            try:
                for frame in self._read(capture, ts_offset):
                    got_any = True
                    reconnect.delivered()
                    yield frame
                ts_offset = self._last_ts + (1.0 / self._fps if self._is_file else 0.0)
            finally:
                capture.release()
            if self._is_file and got_any and not self.stop.is_set():
                if self.camera.loop:
                    continue
                reconnect.set_state("ended")
                logger.info("camera %s: end of file %s", self.camera.id, self.camera.source)
                return
            if not self.stop.is_set():
                reconnect.failed("the stream stopped delivering frames")

    def _open(self) -> cv2.VideoCapture | None:
        source = self.camera.source
        if self.camera.kind == "device":
            capture = cv2.VideoCapture(int(source))
        elif self.camera.kind == "url":
            timeout_ms = int(self.settings.open_timeout_s * 1000)
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
            capture = cv2.VideoCapture(str(source), cv2.CAP_ANY, params)
        else:
            capture = cv2.VideoCapture(str(source))
        if not capture.isOpened():
            capture.release()
            return None
        fps = capture.get(cv2.CAP_PROP_FPS)
        self._fps = fps if 0 < fps < 1000 else FALLBACK_FILE_FPS
        return capture

    def _read(self, capture: cv2.VideoCapture, ts_offset: float) -> Iterator[Frame]:
        # grab() every frame but retrieve() only sampled ones: the stream is drained at its own rate
        # while colour conversion and copying are paid for just the frames that get analysed.
        sampler = _Sampler(self.camera.analysis_fps)
        started, index = self.clock(), 0
        self._last_ts = ts_offset
        while not self.stop.is_set() and capture.grab():
            ts = ts_offset + index / self._fps if self._is_file else self.clock()
            index += 1
            with self.stats.lock:
                self.stats.frames_read += 1
            if self._is_file and self.camera.realtime:
                self._pace(started, index - 1)
            self._last_ts = ts
            sampler.interval = 1.0 / (self.analysis_fps_override or self.camera.analysis_fps)
            if not sampler.take(ts):
                continue
            ok, image = capture.retrieve()
            if not ok or image is None:
                return
            with self.stats.lock:
                self.stats.frames_sampled += 1
            yield Frame(self.camera.id, image, ts, time.time())

    def _pace(self, started: float, index: int) -> None:
        delay = started + index / self._fps - self.clock()
        if delay > 0:
            self.stop.wait(delay)
