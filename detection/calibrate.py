"""`python -m detection calibrate`: frames from each camera's own stream for int8 calibration, moving frames first."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

import cv2

from detection.capture import FrameSource, OpenCVSource
from detection.config import CameraConfig, DetectorConfig
from detection.motion import make_motion_gate
from detection.regions import RegionMask

logger = logging.getLogger(__name__)


class CameraCollector:
    """Saves up to `wanted` frames of one camera, as the worker sees them (region mask applied, sampled rate).

    Frames the motion gate passes are what the violence model will analyse, so they are preferred; static
    frames are kept only to make up the number when a camera saw too little motion in the time given.
    """

    def __init__(self, config: DetectorConfig, camera: CameraConfig, source: FrameSource, wanted: int):
        self.camera, self.source, self.wanted = camera, source, wanted
        self.directory = Path(config.inference.calibration_dir) / camera.id
        self.mask = RegionMask(camera.region_mask)
        self.gate = make_motion_gate(config.motion)
        self.moving = self.still = 0

    def run(self, deadline: float) -> int:
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True)
        for frame in self.source.frames():
            image = self.mask.apply(frame.image)
            if self.gate.apply(image, self.mask.for_shape(*image.shape[:2])).moving:
                self.moving += 1
                cv2.imwrite(str(self.directory / f"m-{self.moving:05d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
            elif self.still < self.wanted:
                self.still += 1
                cv2.imwrite(str(self.directory / f"s-{self.still:05d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
            if self.moving >= self.wanted or time.monotonic() >= deadline:
                break
        for extra in sorted(self.directory.glob("s-*.jpg"))[max(0, self.wanted - self.moving):]:
            extra.unlink()
        kept = min(self.moving, self.wanted) + min(self.still, max(0, self.wanted - self.moving))
        logger.info("camera %s: %d calibration frames (%d with motion) in %s",
                    self.camera.id, kept, min(self.moving, self.wanted), self.directory)
        return kept


def collect_calibration_frames(
    config: DetectorConfig, frames_per_camera: int, max_seconds: float,
    sources: dict[str, FrameSource] | None = None, stop: threading.Event | None = None,
) -> dict[str, int]:
    """Frames from every camera at once, for at most max_seconds; returns how many each camera gave."""
    stop = stop or threading.Event()
    sources = sources or {c.id: OpenCVSource(c, config.capture, stop) for c in config.cameras}
    collectors = [CameraCollector(config, c, sources[c.id], frames_per_camera) for c in config.cameras]
    counts: dict[str, int] = {}
    deadline = time.monotonic() + max_seconds

    def collect(collector: CameraCollector) -> None:
        try:
            counts[collector.camera.id] = collector.run(deadline)
        except Exception:
            logger.exception("camera %s: collecting calibration frames failed", collector.camera.id)
            counts[collector.camera.id] = 0

    threads = [threading.Thread(target=collect, args=(c,), name=f"calibrate-{c.camera.id}") for c in collectors]
    # A camera that is down never yields a frame to notice the deadline on; stopping the sources ends it too.
    timer = threading.Timer(max_seconds, stop.set)
    timer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    timer.cancel()
    stop.set()
    return counts
