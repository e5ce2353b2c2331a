"""Pre-roll clips: a camera's kept key frames encoded as a short, small video (WebM/VP8, which browsers play).

OpenCV's VideoWriter needs a file, so the clip is written to a temporary one and read back. A clip over the
size limit is made again at half the size, then left out: the key frames themselves are always sent.
"""

from __future__ import annotations

import logging
import os
import tempfile

import cv2
import numpy as np

logger = logging.getLogger(__name__)

CONTENT_TYPE = "video/webm"
_FOURCC, _SUFFIX = "VP80", ".webm"
_SHRINKS = 3  # full size, half, quarter


def encode_clip(jpegs: list[bytes], *, fps: float, max_bytes: int) -> bytes | None:
    """The frames (JPEG bytes, oldest first) as a WebM clip at `fps`; None when none fits in `max_bytes`."""
    frames = [cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) for data in jpegs]
    frames = [frame for frame in frames if frame is not None]
    if not frames:
        return None
    height, width = frames[0].shape[:2]
    for shrink in range(_SHRINKS):
        size = (max(16, (width >> shrink) // 2 * 2), max(16, (height >> shrink) // 2 * 2))
        clip = _write(frames, fps=fps, size=size)
        if clip is not None and len(clip) <= max_bytes:
            return clip
    logger.warning("pre-roll clip over %d bytes even at a quarter size; sending the key frames only", max_bytes)
    return None


def _write(frames: list[np.ndarray], *, fps: float, size: tuple[int, int]) -> bytes | None:
    handle, path = tempfile.mkstemp(suffix=_SUFFIX, prefix="preroll-")
    os.close(handle)
    try:
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*_FOURCC), fps, size)
        if not writer.isOpened():
            logger.warning("OpenCV cannot write %s video here; no pre-roll clip", _FOURCC)
            return None
        for frame in frames:
            writer.write(frame if frame.shape[1::-1] == size else cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
        writer.release()
        with open(path, "rb") as clip:
            return clip.read() or None
    finally:
        os.unlink(path)
