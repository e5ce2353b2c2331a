"""Temporal decision: a camera raises an event when its violence score stays high over a window, then cools down."""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass

import numpy as np

from detection.config import DecisionSettings


@dataclass(frozen=True)
class ScoredFrame:
    ts: float  # stream time: video time for files, monotonic time for live sources
    wall_time: float
    score: float
    image: np.ndarray | None  # None for frames the motion gate skipped


@dataclass(frozen=True)
class Trigger:
    """The decision that a camera is seeing violence, with the frames that show it best."""

    confidence: float  # the window median that crossed the threshold
    peak: float
    evidence: tuple[ScoredFrame, ...]  # most violent first
    ts: float
    wall_time: float


class ViolenceDecision:
    """One per camera. Scores arrive in stream order; frames the motion gate skipped count as score 0."""

    def __init__(self, settings: DecisionSettings):
        self.settings = settings
        self._window: deque[ScoredFrame] = deque(maxlen=settings.window)
        self._last_event_ts: float | None = None

    def observe(self, frame: ScoredFrame) -> Trigger | None:
        self._window.append(frame)
        if len(self._window) < self.settings.window or self.cooling_down(frame.ts):
            return None
        # The median ignores a single misclassified frame in either direction, which a mean or max would not.
        median = statistics.median(f.score for f in self._window)
        if median < self.settings.threshold:
            return None
        self._last_event_ts = frame.ts
        return Trigger(median, max(f.score for f in self._window), self._evidence(), frame.ts, frame.wall_time)

    def cooling_down(self, ts: float) -> bool:
        return self._last_event_ts is not None and ts - self._last_event_ts < self.settings.cooldown_s

    def _evidence(self) -> tuple[ScoredFrame, ...]:
        analysed = [f for f in self._window if f.image is not None]
        analysed.sort(key=lambda f: f.score, reverse=True)
        return tuple(analysed[: self.settings.evidence_frames])
