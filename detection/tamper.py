"""Tamper watch: a frozen feed, a covered lens, a camera moved or refocused; each reported once, with a snapshot.

It looks at every sampled frame (through the health monitor's frame hook) on a small grey copy; with the
monitor it costs about what the motion gate does per frame (`bench/bench_tamper.py`, docs/benchmarks.md). A condition must last its configured time (in stream time, so a
replayed file behaves like a live camera) before it is reported, and is reported once until it clears; the
report goes through the publisher and its spool to `/api/ai/camera-tamper/` and becomes a `camera_tamper`
incident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import cv2
import numpy as np

from detection.capture import Frame
from detection.config import CameraConfig, TamperSettings
from detection.events import encode_jpeg

logger = logging.getLogger(__name__)

TAMPER_PATH = "/api/ai/camera-tamper/"
WIDTH = 160
# Frames whose grey levels differ by less than this on average are the same picture (a stuck decoder or a
# frozen encoder; a live sensor's noise alone is several times larger).
IDENTICAL_MEAN_DIFF = 0.15
# Frames needed before the reference view is trusted, and how fast it follows slow change.
REFERENCE_FRAMES = 10
REFERENCE_RATE = 0.05

DESCRIPTIONS = {
    "frozen": "the picture has not changed at all for {s:.0f} s: the feed is frozen",
    "covered": "the picture has been dark or featureless for {s:.0f} s: the lens is covered or blacked out",
    "moved": "the whole view has differed from its usual one for {s:.0f} s: the camera was moved or turned",
    "refocused": "the picture has lost its sharpness for {s:.0f} s: the camera was refocused or smeared",
}


@dataclass(frozen=True)
class TamperEvent:
    """A `camera_tamper` report; the publisher spools and sends it like a violence event, to its own path."""

    camera_id: str
    device_id: str
    beacon_id: str
    confidence_score: float
    description: str
    details: dict
    images: list[bytes] = field(default_factory=list)
    path: str = TAMPER_PATH


@dataclass
class _CameraState:
    previous: np.ndarray | None = None
    reference: np.ndarray | None = None
    reference_frames: int = 0
    sharpness: float | None = None
    since: dict[str, float] = field(default_factory=dict)  # condition -> stream time it started
    reported: set[str] = field(default_factory=set)
    last_report: dict[str, float] = field(default_factory=dict)


def small_grey(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    if width > WIDTH:
        grey = cv2.resize(grey, (WIDTH, max(1, round(height * WIDTH / width))), interpolation=cv2.INTER_AREA)
    return grey.astype(np.float32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised cross-correlation: 1 for the same view (whatever the light), near 0 for another view."""
    a, b = a - a.mean(), b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / denominator if denominator else 1.0


def sharpness_of(grey: np.ndarray) -> float:
    """Variance of the Laplacian after a light blur, so sensor noise does not pass for detail."""
    return float(cv2.Laplacian(cv2.GaussianBlur(grey, (5, 5), 0), cv2.CV_32F).var())


class TamperWatch:
    """Per-camera tamper conditions; `observe(frame)` is called from each camera's capture thread."""

    def __init__(self, cameras: dict[str, CameraConfig], settings: TamperSettings, send: Callable[[TamperEvent], None],
                 jpeg_quality: int = 85):
        self.cameras, self.settings, self.send, self.jpeg_quality = cameras, settings, send, jpeg_quality
        self.state = {camera_id: _CameraState() for camera_id in cameras}
        self.reports = 0

    def observe(self, frame: Frame) -> None:
        if not self.settings.enabled:
            return
        state = self.state[frame.camera_id]
        grey = small_grey(frame.image)
        if state.previous is not None and state.previous.shape != grey.shape:
            state.previous = state.reference = None  # the stream's size changed: start over
            state.reference_frames, state.sharpness = 0, None
        conditions = self._conditions(state, grey)
        self._learn(state, grey, conditions)
        state.previous = grey
        for name, (active, needed_s) in conditions.items():
            self._track(frame, state, name, active, needed_s)

    def _conditions(self, state: _CameraState, grey: np.ndarray) -> dict[str, tuple[bool, float]]:
        s = self.settings
        frozen = state.previous is not None and float(np.mean(np.abs(grey - state.previous))) < IDENTICAL_MEAN_DIFF
        covered = float(grey.mean()) <= s.dark_level or float(grey.std()) <= s.flat_stddev
        ready = state.reference_frames >= REFERENCE_FRAMES and not covered
        moved = ready and similarity(grey, state.reference) < s.moved_similarity
        sharpness = sharpness_of(grey)
        blurred = ready and state.sharpness is not None and sharpness < s.blur_ratio * state.sharpness
        return {
            "frozen": (frozen and not covered, s.frozen_after_s),
            "covered": (covered, s.covered_after_s),
            "moved": (moved, s.moved_after_s),
            "refocused": (blurred and not moved, s.moved_after_s),
        }

    def _learn(self, state: _CameraState, grey: np.ndarray, conditions: dict[str, tuple[bool, float]]) -> None:
        """The reference view and usual sharpness follow slow change, but not a tampered picture."""
        if any(active for active, _ in conditions.values()):
            return
        sharpness = sharpness_of(grey)
        if state.reference is None:
            state.reference, state.sharpness = grey.copy(), sharpness
        else:
            state.reference += REFERENCE_RATE * (grey - state.reference)
            state.sharpness += REFERENCE_RATE * (sharpness - state.sharpness)
        state.reference_frames += 1

    def _track(self, frame: Frame, state: _CameraState, name: str, active: bool, needed_s: float) -> None:
        if not active:
            state.since.pop(name, None)
            state.reported.discard(name)
            return
        started = state.since.setdefault(name, frame.ts)
        lasted = frame.ts - started
        if name in state.reported or lasted < needed_s:
            return
        last = state.last_report.get(name)
        if last is not None and frame.ts - last < self.settings.cooldown_s:
            return
        state.reported.add(name)
        state.last_report[name] = frame.ts
        if name == "moved":
            # The new view is the camera's view from now on: learn it again rather than report it forever.
            state.reference, state.reference_frames = None, 0
        self._report(frame, name, lasted)

    def _report(self, frame: Frame, name: str, lasted_s: float) -> None:
        camera = self.cameras[frame.camera_id]
        what = DESCRIPTIONS[name].format(s=lasted_s)
        event = TamperEvent(
            camera_id=camera.id, device_id=camera.device_id, beacon_id=camera.beacon_id, confidence_score=1.0,
            description=f"Camera {camera.id} tampered with: {what}.",
            details={
                "source": "detection-worker", "camera": camera.id, "tamper": name, "lasted_s": round(lasted_s, 1),
                "detected_at": datetime.fromtimestamp(frame.wall_time, UTC).isoformat(),
            },
            images=[encode_jpeg(frame.image, self.jpeg_quality)],
        )
        self.reports += 1
        logger.warning("camera %s: TAMPER %s (%.0f s)", camera.id, name, lasted_s)
        self.send(event)
