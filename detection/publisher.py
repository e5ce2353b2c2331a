"""Publisher: events go to a disk spool first, and a background thread delivers them to the API in order."""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import threading
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

import requests

from detection.config import ApiSettings, PublisherSettings
from detection.events import ViolenceEvent

logger = logging.getLogger(__name__)


class Publisher(ABC):
    @abstractmethod
    def send(self, event: ViolenceEvent) -> None:
        """Accept an event for delivery; returns at once, never waiting for the network."""

    def start(self) -> None:
        """Begin delivering in the background."""

    def stop(self) -> None:
        """Stop delivering; whatever is undelivered stays spooled for the next start."""

    def drain(self, timeout: float) -> bool:
        """Wait until everything accepted so far is delivered or rejected; False on timeout."""
        return True


@dataclass(frozen=True)
class SpooledEvent:
    path: Path
    data: dict

    @property
    def name(self) -> str:
        return self.path.name

    def image_files(self) -> list[Path]:
        return [self.path / name for name in self.data.get("images", [])]

    def audio_file(self) -> tuple[Path, str] | None:
        audio = self.data.get("audio")
        return (self.path / audio["file"], audio["content_type"]) if audio else None

    def clip_file(self) -> tuple[Path, str] | None:
        clip = self.data.get("clip")
        return (self.path / clip["file"], clip["content_type"]) if clip else None


class Spool:
    """A directory queue: pending/<sortable name>/ holds event.json and the JPEGs; names sort in arrival order."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.incoming, self.pending, self.rejected = (self.root / d for d in ("incoming", "pending", "rejected"))
        for directory in (self.incoming, self.pending, self.rejected):
            directory.mkdir(parents=True, exist_ok=True)
        # A half-written event from a crash was never accepted; pending/ only ever receives complete ones.
        for leftover in self.incoming.iterdir():
            shutil.rmtree(leftover, ignore_errors=True)
        self._sequence = itertools.count()
        self._lock = threading.Lock()

    def put(self, event: ViolenceEvent) -> Path:
        with self._lock:
            name = f"{time.time_ns():020d}-{next(self._sequence):06d}-{event.camera_id}"
        staging = self.incoming / name
        staging.mkdir()
        images = []
        for number, jpeg in enumerate(event.images, start=1):
            (staging / f"image-{number}.jpg").write_bytes(jpeg)
            images.append(f"image-{number}.jpg")
        # A scream report also carries an audio clip and goes to its own endpoint.
        audio = getattr(event, "audio", b"")
        if audio:
            (staging / event.audio_name).write_bytes(audio)
        # A pre-roll may carry a short video of its frames.
        clip = getattr(event, "clip", b"")
        if clip:
            (staging / "clip.webm").write_bytes(clip)
        data = {
            "camera_id": event.camera_id, "device_id": event.device_id, "beacon_id": event.beacon_id,
            "confidence_score": event.confidence_score, "description": event.description,
            "details": event.details, "images": images, "spooled_at": time.time(),
            "path": getattr(event, "path", None),
            "audio": {"file": event.audio_name, "content_type": event.audio_content_type} if audio else None,
            "clip": {"file": "clip.webm", "content_type": event.clip_content_type} if clip else None,
            # Sent with every attempt: a report the API stored but never answered is not stored twice.
            "idempotency_key": uuid.uuid4().hex,
        }
        (staging / "event.json").write_text(json.dumps(data), encoding="utf-8")
        # The rename is atomic, so the delivery thread sees either nothing or the whole event.
        os.replace(staging, self.pending / name)
        return self.pending / name

    def names(self) -> list[str]:
        return sorted(entry.name for entry in self.pending.iterdir())

    def oldest(self) -> SpooledEvent | None:
        for name in self.names():
            try:
                data = json.loads((self.pending / name / "event.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                self.reject(SpooledEvent(self.pending / name, {}), {"error": f"unreadable spool entry: {exc}"})
                continue
            return SpooledEvent(self.pending / name, data)
        return None

    def remove(self, entry: SpooledEvent) -> None:
        shutil.rmtree(entry.path, ignore_errors=True)

    def reject(self, entry: SpooledEvent, reason: dict) -> Path:
        target = self.rejected / entry.name
        os.replace(entry.path, target)
        (target / "rejection.json").write_text(json.dumps(reason, indent=2), encoding="utf-8")
        return target


@dataclass
class PublisherStats:
    delivered: int = 0
    rejected: int = 0
    failed_attempts: int = 0
    last_error: str = ""
    last_response: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    kind: str  # "delivered", "retry" or "rejected"
    status: int | None = None
    body: object = None
    error: str = ""
    retry_after: float = 0.0


class HttpPublisher(Publisher):
    """Multipart POSTs with the camera's device key, one event at a time, oldest first.

    Violence events go to api.path; scream events name their own path and carry an audio clip.
    """

    def __init__(
        self,
        api: ApiSettings,
        settings: PublisherSettings,
        device_keys: dict[str, str],
        session: requests.Session | None = None,
    ):
        self.api, self.settings, self.device_keys = api, settings, dict(device_keys)
        self.spool = Spool(settings.spool_dir)
        self.stats = PublisherStats()
        self.session = session or requests.Session()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, event: ViolenceEvent) -> None:
        path = self.spool.put(event)
        logger.info(
            "camera %s: event spooled as %s (%d images%s%s)", event.camera_id, path.name, len(event.images),
            ", audio" if getattr(event, "audio", b"") else "", ", clip" if getattr(event, "clip", b"") else "",
        )
        self._idle.clear()
        self._wake.set()

    def start(self) -> None:
        pending = len(self.spool.names())
        if pending:
            logger.info("publisher: %d undelivered events in %s will be sent first", pending, self.spool.pending)
        # A daemon thread: a request hanging on a dead network must never keep the process from exiting.
        self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.api.timeout_s + 5)

    def drain(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._idle.wait(timeout=0.1) and not self.spool.names():
                return True
        return not self.spool.names()

    @property
    def pending(self) -> int:
        return len(self.spool.names())

    def _run(self) -> None:
        backoff = self.settings.retry_initial_s
        while not self._stop.is_set():
            # Clear before looking, so a send() that lands after the look still wakes the wait below.
            self._wake.clear()
            entry = self.spool.oldest()
            if entry is None:
                self._idle.set()
                self._wake.wait(timeout=1.0)
                continue
            try:
                outcome = self._deliver(entry)
            except Exception as exc:  # a bug here must not silently end delivery for the rest of the run
                logger.exception("publisher: unexpected error delivering %s", entry.name)
                outcome = Outcome("retry", error=f"{type(exc).__name__}: {exc}")
            if outcome.kind == "retry":
                self._note_retry(entry, outcome, backoff)
                # Retrying the same (oldest) event keeps delivery in order across an outage.
                self._stop.wait(min(max(backoff, outcome.retry_after), self.settings.retry_max_s))
                backoff = min(backoff * 2, self.settings.retry_max_s)
                continue
            backoff = self.settings.retry_initial_s
            self._finish(entry, outcome)

    def _deliver(self, entry: SpooledEvent) -> Outcome:
        device_id = entry.data.get("device_id", "")
        key = self.device_keys.get(device_id)
        if key is None:
            return Outcome("rejected", error=f"no device key configured for device {device_id!r}")
        fields = {
            "beacon_id": entry.data["beacon_id"],
            "confidence_score": f"{entry.data['confidence_score']:.4f}",
            "description": entry.data["description"],
            "device_id": device_id,
            "details": json.dumps(entry.data.get("details", {})),
        }
        try:
            files = [("images", (p.name, p.read_bytes(), "image/jpeg")) for p in entry.image_files()]
            if (audio := entry.audio_file()) is not None:
                files.append(("audio", (audio[0].name, audio[0].read_bytes(), audio[1])))
            if (clip := entry.clip_file()) is not None:
                files.append(("clip", (clip[0].name, clip[0].read_bytes(), clip[1])))
        except OSError as exc:
            return Outcome("rejected", error=f"unreadable evidence in the spool: {exc}")
        path = entry.data.get("path")
        url = self.api.base_url.rstrip("/") + path if path else self.api.url
        headers = {"Authorization": f"Device {key}"}
        if entry.data.get("idempotency_key"):
            headers["Idempotency-Key"] = entry.data["idempotency_key"]
        try:
            response = self.session.post(
                url, headers=headers, data=fields, files=files or None,
                timeout=self.api.timeout_s,
            )
        except requests.RequestException as exc:
            return Outcome("retry", error=f"{type(exc).__name__}: {exc}")
        return _classify(response)

    def _note_retry(self, entry: SpooledEvent, outcome: Outcome, backoff: float) -> None:
        self.stats.failed_attempts += 1
        self.stats.last_error = outcome.error or f"HTTP {outcome.status}"
        logger.warning(
            "publisher: %s not delivered (%s); %d pending, retrying in %.0f s",
            entry.name, self.stats.last_error, self.pending, max(backoff, outcome.retry_after),
        )

    def _finish(self, entry: SpooledEvent, outcome: Outcome) -> None:
        if outcome.kind == "delivered":
            self.spool.remove(entry)
            self.stats.delivered += 1
            self.stats.last_response = outcome.body if isinstance(outcome.body, dict) else {}
            body = self.stats.last_response
            logger.info(
                "publisher: %s delivered: HTTP %s %s incident=%s",
                entry.name, outcome.status, body.get("status", ""), body.get("incident_id", "-"),
            )
            return
        reason = {"status": outcome.status, "response": outcome.body, "error": outcome.error}
        target = self.spool.reject(entry, reason)
        self.stats.rejected += 1
        self.stats.last_error = outcome.error or f"HTTP {outcome.status}"
        logger.error("publisher: %s rejected (%s %s); kept in %s", entry.name, outcome.status, outcome.body or outcome.error, target)


def _classify(response: requests.Response) -> Outcome:
    try:
        body: object = response.json()
    except ValueError:
        body = response.text[:500]
    status = response.status_code
    if 200 <= status < 300:
        return Outcome("delivered", status, body)
    if 400 <= status < 500 and status not in (408, 429):
        return Outcome("rejected", status, body)
    return Outcome("retry", status, body, f"HTTP {status}", _retry_after(response))


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", 0)))
    except ValueError:
        return 0.0  # an HTTP-date; the exponential backoff is good enough
