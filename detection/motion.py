"""Motion gate: cheap background subtraction that keeps frames without motion away from the models."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import cv2
import numpy as np

from detection.config import MotionSettings


@dataclass(frozen=True)
class MotionResult:
    moving: bool
    fraction: float  # share of the analysed area that changed


class MotionGate(ABC):
    @abstractmethod
    def apply(self, frame: np.ndarray, mask: np.ndarray | None = None) -> MotionResult:
        """Judge one BGR frame; mask (uint8, frame-sized) limits the judgement to the camera's regions."""


class AlwaysMoving(MotionGate):
    """The gate switched off: every frame goes to the models."""

    def apply(self, frame: np.ndarray, mask: np.ndarray | None = None) -> MotionResult:
        return MotionResult(True, 1.0)


class BackgroundSubtractionGate(MotionGate):
    """MOG2 on a small blurred greyscale copy; costs well under a millisecond per sampled frame."""

    # MOG2 marks everything as foreground until it has seen a frame, so the first frames prove nothing.
    WARMUP_FRAMES = 2

    def __init__(self, settings: MotionSettings):
        self.settings = settings
        self._subtractor = cv2.createBackgroundSubtractorMOG2(
            history=settings.history, varThreshold=settings.var_threshold, detectShadows=False
        )
        self._seen = 0
        self._small_mask: tuple[np.ndarray, np.ndarray] | None = None

    def apply(self, frame: np.ndarray, mask: np.ndarray | None = None) -> MotionResult:
        small = self._shrink(frame)
        # MOG2's default rate is 1/frames-seen, so right after start-up it would absorb a fight into the
        # background within a few frames; a fixed slow rate keeps people moving around as foreground.
        rate = -1 if self._seen < self.WARMUP_FRAMES else 1.0 / self.settings.history
        foreground = self._subtractor.apply(small, learningRate=rate)
        small_mask = self._shrink_mask(mask, small.shape)
        if small_mask is not None:
            foreground = cv2.bitwise_and(foreground, small_mask)
            area = max(int(np.count_nonzero(small_mask)), 1)
        else:
            area = foreground.size
        self._seen += 1
        fraction = float(np.count_nonzero(foreground)) / area
        return MotionResult(self._seen > self.WARMUP_FRAMES and fraction >= self.settings.min_area, fraction)

    def _shrink(self, frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        target = (self.settings.width, max(1, round(height * self.settings.width / width)))
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        small = cv2.resize(grey, target, interpolation=cv2.INTER_AREA)
        # Blurring removes sensor noise and compression speckle that would otherwise count as motion.
        return cv2.GaussianBlur(small, (5, 5), 0)

    def _shrink_mask(self, mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
        if mask is None:
            return None
        # RegionMask hands out the same array for every frame of a size, so one resize serves them all.
        if self._small_mask is None or self._small_mask[0] is not mask:
            small = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
            self._small_mask = (mask, small)
        return self._small_mask[1]


def make_motion_gate(settings: MotionSettings) -> MotionGate:
    return BackgroundSubtractionGate(settings) if settings.enabled else AlwaysMoving()
