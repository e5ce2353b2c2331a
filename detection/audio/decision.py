"""Audio decision: a source raises a scream report when its score stays high over a few hops, then cools down."""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass

import numpy as np

from detection.config import AudioDecisionSettings


@dataclass(frozen=True)
class ScoredWindow:
    start_ts: float  # stream time of the window's first and last sample
    end_ts: float
    wall_time: float
    class_scores: dict[str, float] | None  # None for windows the gate kept from the model
    samples: np.ndarray | None

    @property
    def score(self) -> float:
        return max(self.class_scores.values()) if self.class_scores else 0.0


@dataclass(frozen=True)
class AudioTrigger:
    """The decision that a source heard distress, with the window that sounded worst."""

    confidence: float  # the window median that crossed the threshold
    peak: ScoredWindow

    @property
    def label(self) -> str:
        scores = self.peak.class_scores or {}
        return max(scores, key=scores.__getitem__) if scores else ""


class ScreamDecision:
    """One per source. Windows arrive in stream order; gated ones count as score 0."""

    def __init__(self, settings: AudioDecisionSettings):
        self.settings = settings
        self._window: deque[ScoredWindow] = deque(maxlen=settings.window)
        self._last_report_ts: float | None = None

    def observe(self, window: ScoredWindow) -> AudioTrigger | None:
        self._window.append(window)
        if len(self._window) < self.settings.window or self.cooling_down(window.end_ts):
            return None
        # The median ignores one misheard window either way, which a mean or a max would not.
        median = statistics.median(w.score for w in self._window)
        if median < self.settings.threshold:
            return None
        self._last_report_ts = window.end_ts
        peak = max((w for w in self._window if w.samples is not None), key=lambda w: w.score)
        return AudioTrigger(median, peak)

    def cooling_down(self, ts: float) -> bool:
        return self._last_report_ts is not None and ts - self._last_report_ts < self.settings.cooldown_s
