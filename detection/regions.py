"""Region masks: black out everything outside a camera's configured polygons before any analysis."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


class RegionMask:
    """Polygons in fractions of the frame, rasterised lazily per frame size (streams may change resolution)."""

    def __init__(self, polygons: Sequence[Sequence[tuple[float, float]]] | None):
        self._polygons = [np.asarray(p, dtype=np.float64) for p in polygons or []]
        self._cache: dict[tuple[int, int], np.ndarray] = {}

    def for_shape(self, height: int, width: int) -> np.ndarray | None:
        """A uint8 mask (255 inside the regions) for frames of this size, or None when the whole frame counts."""
        if not self._polygons:
            return None
        key = (height, width)
        if key not in self._cache:
            mask = np.zeros(key, dtype=np.uint8)
            scale = np.array([width - 1, height - 1], dtype=np.float64)
            points = [np.round(p * scale).astype(np.int32) for p in self._polygons]
            cv2.fillPoly(mask, points, 255)
            self._cache[key] = mask
        return self._cache[key]

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """The frame with everything outside the regions set to black (a copy; the input is untouched)."""
        mask = self.for_shape(*frame.shape[:2])
        if mask is None:
            return frame
        return cv2.bitwise_and(frame, frame, mask=mask)
