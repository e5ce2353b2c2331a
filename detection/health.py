"""Camera health: what each camera is doing (frames, rates, model latency, latest image) and heartbeats to the platform.

`HealthMonitor` sees every sampled frame through `ObservedSource` (a wrapper around each `FrameSource`) and
the violence model's timing through `TimedClassifier`, so the pipeline itself needs no change. `Heartbeats`
posts every camera's state to `POST /api/devices/heartbeat/` with its device's key; the answer may ask for a
closer look at cameras linked to an open SOS (`focus`, with their pre-roll) or for a camera's latest frame
(`snapshot_requests`, which a dispatcher asked for).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import requests

from detection import clips
from detection.capture import CaptureStats, Frame, FrameSource
from detection.config import CameraConfig, DetectorConfig
from detection.events import encode_jpeg
from detection.models.classifiers import Classifier

logger = logging.getLogger(__name__)

# How the capture states map to what the platform understands.
PLATFORM_STATE = {"starting": "reconnecting", "up": "ok", "reconnecting": "reconnecting", "down": "down",
                  "ended": "down", "failed": "down"}


@dataclass
class CameraHealth:
    """One camera as the monitor sees it; written by its capture thread, read by the heartbeat and operator threads."""

    camera_id: str
    frames: int = 0
    last_frame_wall: float | None = None
    latest: np.ndarray | None = None
    focus_sos: list[int] = field(default_factory=list)
    preroll_sent: set[int] = field(default_factory=set)  # SOS ids whose pre-roll has been handed to the publisher
    snapshots_sent: set[int] = field(default_factory=set)  # snapshot requests answered (or being delivered)
    # (wall time, JPEG) key frames of the last preroll_s seconds, oldest first.
    preroll: deque = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@dataclass(frozen=True)
class SnapshotUpload:
    """The latest frame of a camera, which a dispatcher asked for; spooled and sent like a report, to its own path."""

    camera_id: str
    device_id: str
    beacon_id: str
    confidence_score: float
    description: str
    details: dict
    images: list[bytes]
    path: str


@dataclass(frozen=True)
class PrerollEvidence(SnapshotUpload):
    """Key frames of a camera's last seconds for an SOS; spooled and sent like a report, to its own path.
    Shaped as an upload of frames, plus a short video of the same frames."""

    # health.preroll_clip: sent with the frames; empty when off or too big.
    clip: bytes = b""
    clip_content_type: str = clips.CONTENT_TYPE


class ObservedSource(FrameSource):
    """A frame source that shows each sampled frame to `on_frame` before handing it on."""

    def __init__(self, inner: FrameSource, on_frame: Callable[[Frame], None]):
        self.inner, self.on_frame = inner, on_frame

    @property
    def stats(self) -> CaptureStats:
        return self.inner.stats

    @property
    def lossless(self) -> bool:
        return self.inner.lossless

    def frames(self) -> Iterator[Frame]:
        for frame in self.inner.frames():
            self.on_frame(frame)
            yield frame


class TimedClassifier(Classifier):
    """The violence model with its latency measured: a moving average of milliseconds per image."""

    def __init__(self, inner: Classifier, smoothing: float = 0.2):
        self.inner, self.smoothing = inner, smoothing
        self.labels = inner.labels
        self.ms_per_image: float | None = None

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def predict(self, images: Sequence[np.ndarray]) -> np.ndarray:
        started = time.perf_counter()
        result = self.inner.predict(images)
        if len(images):
            ms = (time.perf_counter() - started) * 1000 / len(images)
            previous = self.ms_per_image
            self.ms_per_image = ms if previous is None else previous + self.smoothing * (ms - previous)
        return result


class HealthMonitor:
    """Per-camera health, with hooks for the tamper watch (`watchers`) and the operator endpoint."""

    def __init__(self, config: DetectorConfig, clock: Callable[[], float] = time.time):
        self.config, self.clock = config, clock
        self.cameras: dict[str, CameraConfig] = {c.id: c for c in config.cameras}
        self.health = {c.id: CameraHealth(c.id) for c in config.cameras}
        self.watchers: list[Callable[[Frame], None]] = []
        self.sources: dict[str, FrameSource] = {}
        self.stats: dict = {}  # camera id -> pipeline.CameraStats, set by the app
        self.model: TimedClassifier | None = None
        # Rates are measured per reader (heartbeats, the operator endpoint), so one never skews the other's.
        self._previous: dict[tuple[str, str], tuple[float, int, int]] = {}
        self._previous_lock = threading.Lock()

    def observe(self, sources: dict[str, FrameSource]) -> dict[str, FrameSource]:
        self.sources = {cid: ObservedSource(source, self._on_frame) for cid, source in sources.items()}
        return self.sources

    def timed(self, model: Classifier) -> TimedClassifier:
        self.model = TimedClassifier(model)
        return self.model

    def _on_frame(self, frame: Frame) -> None:
        health = self.health[frame.camera_id]
        keyframe = self._keyframe_due(health, frame.wall_time)
        jpeg = encode_jpeg(frame.image, 80) if keyframe else None
        with health.lock:
            health.frames += 1
            health.last_frame_wall = frame.wall_time
            health.latest = frame.image
            if jpeg is not None:
                health.preroll.append((frame.wall_time, jpeg))
                while health.preroll and health.preroll[0][0] < frame.wall_time - self.config.health.preroll_s:
                    health.preroll.popleft()
        for watch in self.watchers:
            try:
                watch(frame)
            except Exception:  # a watcher's bug must never stop the camera's capture
                logger.exception("camera %s: a frame watcher failed", frame.camera_id)

    def _keyframe_due(self, health: CameraHealth, wall_time: float) -> bool:
        settings = self.config.health
        if settings.preroll_frames == 0:
            return False
        with health.lock:
            last = health.preroll[-1][0] if health.preroll else None
        return last is None or wall_time - last >= settings.preroll_s / settings.preroll_frames

    def preroll(self, camera_id: str, sos_id: int) -> PrerollEvidence | None:
        """The camera's kept key frames as evidence for `sos_id`; None when there are none."""
        health, camera = self.health[camera_id], self.cameras[camera_id]
        with health.lock:
            frames = list(health.preroll)
        if not frames:
            return None
        times = [datetime.fromtimestamp(t, UTC).isoformat() for t, _ in frames]
        settings = self.config.health
        clip = (clips.encode_clip([jpeg for _, jpeg in frames], fps=settings.preroll_clip_fps,
                                  max_bytes=settings.preroll_clip_max_bytes) if settings.preroll_clip else None)
        return PrerollEvidence(
            camera_id=camera_id, device_id=camera.device_id, beacon_id=camera.beacon_id, confidence_score=1.0,
            description=f"Camera {camera_id}: the last {len(frames)} key frames before SOS {sos_id} was linked.",
            details={"camera": camera_id, "sos_id": sos_id, "captured_at": times},
            images=[jpeg for _, jpeg in frames], path=self.config.health.preroll_path, clip=clip or b"",
        )

    def snapshot_upload(self, camera_id: str, snapshot_id: int) -> SnapshotUpload | None:
        """The camera's latest frame for snapshot request `snapshot_id`; None while it has none."""
        health, camera = self.health[camera_id], self.cameras[camera_id]
        with health.lock:
            image, seen = health.latest, health.last_frame_wall
        if image is None:
            return None
        return SnapshotUpload(
            camera_id=camera_id, device_id=camera.device_id, beacon_id=camera.beacon_id, confidence_score=1.0,
            description=f"Camera {camera_id}: latest frame, as asked (snapshot {snapshot_id}).",
            details={"camera": camera_id, "snapshot_id": snapshot_id,
                     "captured_at": datetime.fromtimestamp(seen, UTC).isoformat()},
            images=[encode_jpeg(image, self.config.publisher.jpeg_quality)], path=self.config.health.snapshot_path,
        )

    def snapshot(self, camera_id: str, reader: str = "heartbeat") -> dict:
        """The camera's figures now: state, rates since `reader`'s last snapshot, latency, last frame."""
        now = self.clock()
        health = self.health[camera_id]
        capture = self.sources[camera_id].stats if camera_id in self.sources else CaptureStats()
        with capture.lock:
            capture_state, reconnects = capture.state, capture.reconnects
        analysed = skipped = dropped = events = 0
        stats = self.stats.get(camera_id)
        if stats is not None:
            with stats.lock:
                analysed, skipped, dropped, events = stats.analysed, stats.skipped_static, stats.dropped, stats.events
        with self._previous_lock:
            since, analysed_before, skipped_before = self._previous.get((reader, camera_id), (now, analysed, skipped))
            self._previous[(reader, camera_id)] = (now, analysed, skipped)
        moving, still = analysed - analysed_before, skipped - skipped_before
        with health.lock:
            last_frame = health.last_frame_wall
        ms = self.model.ms_per_image if self.model is not None else None
        return {
            "camera_id": camera_id,
            "state": PLATFORM_STATE.get(capture_state, "down"),
            "capture_state": capture_state,
            "fps": round((moving + still) / (now - since), 3) if now > since else 0.0,
            "dropped_frames": dropped,
            "last_frame_at": None if last_frame is None else datetime.fromtimestamp(last_frame, UTC).isoformat(),
            "model_latency_ms": None if ms is None else round(ms, 2),
            "motion_share": round(moving / (moving + still), 3) if moving + still else None,
            "analysed": analysed, "skipped_static": skipped, "events": events, "reconnects": reconnects,
            "frames": health.frames,
        }

    def latest_image(self, camera_id: str) -> np.ndarray | None:
        health = self.health.get(camera_id)
        if health is None:
            return None
        with health.lock:
            return health.latest


HEARTBEAT_FIELDS = ("camera_id", "state", "fps", "dropped_frames", "last_frame_at", "model_latency_ms", "motion_share")


class Heartbeats:
    """Posts every camera's health, grouped by device, every `heartbeat_interval_s`, on its own thread."""

    def __init__(self, config: DetectorConfig, monitor: HealthMonitor, stop: threading.Event,
                 session: requests.Session | None = None, send: Callable[[PrerollEvidence], None] | None = None):
        self.config, self.monitor, self.stop, self.send = config, monitor, stop, send
        self.session = session or requests.Session()
        self.url = config.api.base_url.rstrip("/") + config.health.heartbeat_path
        self.sent = self.failed = 0
        self._failing = False
        self.thread = threading.Thread(target=self._run, name="heartbeats", daemon=True)

    def start(self) -> None:
        if self.config.health.heartbeat_enabled:
            self.thread.start()

    def _run(self) -> None:
        while True:
            self.beat()
            if self.stop.wait(self.config.health.heartbeat_interval_s):
                return

    def beat(self) -> None:
        """One round: one request per device, each with its cameras."""
        by_device: dict[str, list[CameraConfig]] = {}
        for camera in self.config.cameras:
            by_device.setdefault(camera.device_id, []).append(camera)
        for cameras in by_device.values():
            reports = [self.monitor.snapshot(c.id) for c in cameras]
            body = {"cameras": [{k: r[k] for k in HEARTBEAT_FIELDS} for r in reports]}
            self._post(cameras[0].key, body)

    def _post(self, key: str, body: dict) -> None:
        try:
            response = self.session.post(self.url, json=body, headers={"Authorization": f"Device {key}"},
                                         timeout=self.config.api.timeout_s)
            ok = response.status_code == 200
            answer = response.json() if ok else None
        except (requests.RequestException, ValueError) as exc:
            ok, answer, response = False, None, exc
        if not ok:
            self.failed += 1
            if not self._failing:  # log the start of a failure, not every beat of it
                logger.warning("heartbeat not accepted: %s", getattr(response, "status_code", response))
            self._failing = True
            return
        self.sent += 1
        if self._failing:
            logger.info("heartbeats accepted again")
        self._failing = False
        self._apply(answer)

    def _apply(self, answer: dict) -> None:
        for camera_id in answer.get("unknown_cameras", []):
            logger.debug("camera %s is not registered on the platform", camera_id)
        for camera_id, state in (answer.get("cameras") or {}).items():
            health = self.monitor.health.get(camera_id)
            if health is None or not isinstance(state, dict):
                continue
            focus = [s for s in state.get("focus_sos", []) if isinstance(s, int)]
            with health.lock:
                new = sorted(set(focus) - set(health.focus_sos))
                health.focus_sos = focus
            if new:
                logger.warning("camera %s: linked to open SOS %s; the platform asks for a close watch", camera_id,
                               ", ".join(map(str, new)))
            self._set_rate(camera_id, focused=bool(focus))
            self._send_preroll(camera_id, health, focus)
            self._send_snapshots(camera_id, health, state.get("snapshot_requests") or [])

    def _set_rate(self, camera_id: str, *, focused: bool) -> None:
        """A camera watching an open SOS is analysed at `focus_analysis_fps` (if faster than its own rate)."""
        source = self.monitor.sources.get(camera_id)
        inner = getattr(source, "inner", None)
        if inner is None or not hasattr(inner, "analysis_fps_override"):
            return
        faster = max(self.config.health.focus_analysis_fps, self.monitor.cameras[camera_id].analysis_fps)
        wanted = faster if focused else None
        if inner.analysis_fps_override != wanted:
            logger.info("camera %s: analysing at %s fps", camera_id,
                        wanted or self.monitor.cameras[camera_id].analysis_fps)
            inner.analysis_fps_override = wanted

    def _send_preroll(self, camera_id: str, health, focus: list[int]) -> None:
        """Once per SOS; a camera with no frame kept yet tries again on the next answer."""
        if self.send is None:
            return
        for sos_id in focus:
            if sos_id in health.preroll_sent:
                continue
            evidence = self.monitor.preroll(camera_id, sos_id)
            if evidence is not None:
                self.send(evidence)
                health.preroll_sent.add(sos_id)

    def _send_snapshots(self, camera_id: str, health, requests: list) -> None:
        """Once per request; a camera with no frame yet tries again on the next answer (until the request expires)."""
        if self.send is None:
            return
        for snapshot_id in requests:
            if not isinstance(snapshot_id, int) or snapshot_id in health.snapshots_sent:
                continue
            upload = self.monitor.snapshot_upload(camera_id, snapshot_id)
            if upload is not None:
                logger.info("camera %s: sending the latest frame for snapshot %d", camera_id, snapshot_id)
                self.send(upload)
                health.snapshots_sent.add(snapshot_id)
        # Requests the platform no longer lists were answered or expired: forget them, so the set stays small.
        health.snapshots_sent &= set(requests)
