"""Pipeline: per-camera threads feed one batcher; one analyser scores batches across cameras and raises events."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from detection.capture import Frame, FrameSource
from detection.config import CameraConfig, DecisionSettings
from detection.decision import ScoredFrame, Trigger, ViolenceDecision
from detection.events import build_event
from detection.models.classifiers import Classifier
from detection.motion import MotionGate
from detection.persons import PeopleCounter
from detection.publisher import Publisher
from detection.regions import RegionMask

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    frame: Frame  # image already masked to the camera's regions
    moving: bool


@dataclass
class CameraStats:
    analysed: int = 0
    skipped_static: int = 0
    dropped: int = 0
    events: int = 0
    last_score: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class FrameBatcher:
    """Small per-camera queues drained round-robin, so one busy camera cannot starve the others.

    Live cameras drop their oldest waiting frame when the analyser falls behind (fresh frames matter more);
    lossless ones (files replayed as fast as possible) wait instead, so every sampled frame is analysed.
    """

    def __init__(self) -> None:
        self._queues: dict[str, deque[Sample]] = {}
        self._depth: dict[str, int] = {}
        self._lossless: dict[str, bool] = {}
        self._open: set[str] = set()
        self._order: deque[str] = deque()
        self._cond = threading.Condition()

    def register(self, camera_id: str, lossless: bool, depth: int = 2) -> None:
        with self._cond:
            self._queues[camera_id] = deque()
            self._depth[camera_id] = depth
            self._lossless[camera_id] = lossless
            self._open.add(camera_id)
            self._order.append(camera_id)

    def put(self, sample: Sample, stop: threading.Event) -> bool:
        """Queue a sample; returns False when an older sample was dropped to make room."""
        camera_id = sample.frame.camera_id
        with self._cond:
            queue, depth = self._queues[camera_id], self._depth[camera_id]
            while self._lossless[camera_id] and len(queue) >= depth and not stop.is_set():
                self._cond.wait(timeout=0.5)
            dropped = len(queue) >= depth
            if dropped:
                queue.popleft()
            queue.append(sample)
            self._cond.notify_all()
            return not dropped

    def close(self, camera_id: str) -> None:
        with self._cond:
            self._open.discard(camera_id)
            self._cond.notify_all()

    @property
    def finished(self) -> bool:
        """Every camera has ended and every queued sample has been taken."""
        with self._cond:
            return not self._open and not any(self._queues.values())

    def take(self, max_moving: int, wait_s: float, linger_s: float) -> list[Sample]:
        """Up to max_moving frames for the model (plus any static ones), oldest first per camera."""
        with self._cond:
            if not self._cond.wait_for(lambda: any(self._queues.values()), timeout=wait_s):
                return []
            if linger_s > 0 and self._count_moving() < max_moving:
                self._cond.wait_for(lambda: self._count_moving() >= max_moving, timeout=linger_s)
            batch = self._collect(max_moving)
            self._cond.notify_all()
            return batch

    def _count_moving(self) -> int:
        return sum(s.moving for q in self._queues.values() for s in q)

    def _collect(self, max_moving: int) -> list[Sample]:
        # One frame per camera in turn, starting after the camera served last: once the batch is full the turn
        # stops there, so with more cameras than a batch holds the next batch begins with those left out of this one.
        batch: list[Sample] = []
        moving = empty = 0
        while moving < max_moving and empty < len(self._order):
            camera_id = self._order[0]
            self._order.rotate(-1)
            queue = self._queues[camera_id]
            if not queue:
                empty += 1
                continue
            sample = queue.popleft()
            moving += sample.moving
            batch.append(sample)
            empty = 0
        return batch


class CameraWorker:
    """One camera's thread: capture, region mask, motion gate, hand over to the batcher."""

    def __init__(
        self,
        camera: CameraConfig,
        source: FrameSource,
        gate: MotionGate,
        batcher: FrameBatcher,
        stats: CameraStats,
        stop: threading.Event,
    ):
        self.camera, self.source, self.gate, self.batcher, self.stats, self.stop = camera, source, gate, batcher, stats, stop
        self.mask = RegionMask(camera.region_mask)
        self.thread = threading.Thread(target=self._run, name=f"camera-{camera.id}", daemon=True)

    def _run(self) -> None:
        try:
            for frame in self.source.frames():
                self._handle(frame)
        except Exception:
            logger.exception("camera %s: capture thread failed; the camera is no longer analysed", self.camera.id)
            with self.source.stats.lock:
                self.source.stats.state = "failed"
        finally:
            self.batcher.close(self.camera.id)

    def _handle(self, frame: Frame) -> None:
        image = self.mask.apply(frame.image)
        motion = self.gate.apply(image, self.mask.for_shape(*image.shape[:2]))
        frame.image = image
        if not self.batcher.put(Sample(frame, motion.moving), self.stop):
            with self.stats.lock:
                self.stats.dropped += 1


class Analyzer:
    """Runs the violence model on batches of moving frames from all cameras and turns decisions into events."""

    def __init__(
        self,
        cameras: dict[str, CameraConfig],
        violence: Classifier,
        people: PeopleCounter,
        publisher: Publisher,
        decision: DecisionSettings,
        jpeg_quality: int = 85,
    ):
        self.cameras, self.violence, self.people, self.publisher = cameras, violence, people, publisher
        self.decisions = {camera_id: ViolenceDecision(decision) for camera_id in cameras}
        self.stats = {camera_id: CameraStats() for camera_id in cameras}
        self.jpeg_quality = jpeg_quality

    def process(self, samples: list[Sample]) -> None:
        moving = [s for s in samples if s.moving]
        scores = iter(self.violence.scores([s.frame.image for s in moving], "violence").tolist())
        for sample in samples:
            score = next(scores) if sample.moving else 0.0
            self._record(sample, score)
            frame = sample.frame
            trigger = self.decisions[frame.camera_id].observe(
                ScoredFrame(frame.ts, frame.wall_time, score, frame.image if sample.moving else None)
            )
            if trigger is not None:
                self._report(frame.camera_id, trigger)

    def _record(self, sample: Sample, score: float) -> None:
        stats = self.stats[sample.frame.camera_id]
        with stats.lock:
            if sample.moving:
                stats.analysed += 1
                stats.last_score = score
            else:
                stats.skipped_static += 1

    def _report(self, camera_id: str, trigger: Trigger) -> None:
        camera = self.cameras[camera_id]
        started = time.perf_counter()
        people = self.people.count([f.image for f in trigger.evidence if f.image is not None])
        event = build_event(camera, trigger, people, self.jpeg_quality)
        self.publisher.send(event)
        with self.stats[camera_id].lock:
            self.stats[camera_id].events += 1
        logger.warning(
            "camera %s: VIOLENCE score=%.2f people=%d female=%d male=%d priority=%s (census %.2f s)",
            camera_id, trigger.confidence, people.people, people.female, people.male,
            event.details["priority_hint"], time.perf_counter() - started,
        )
