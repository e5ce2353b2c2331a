"""Scream reports: what one audio report says (class scores, the window, the evidence clip) and how it is built."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from detection.audio.decision import AudioTrigger
from detection.audio.evidence import CONTENT_TYPE, FILE_NAME, encode_opus, loudest_clip


@dataclass(frozen=True)
class AudioReporter:
    """Who reports what a source hears: the camera or microphone, its registered device and its beacon."""

    source_id: str
    device_id: str
    beacon_id: str


@dataclass(frozen=True)
class ScreamEvent:
    """Everything the API is sent for one scream report; the publisher spools and delivers it like a violence event."""

    camera_id: str  # the source's id (a camera's or a microphone's), as the publisher names spool entries
    device_id: str
    beacon_id: str
    confidence_score: float
    description: str
    details: dict
    path: str  # the API path this report goes to
    audio: bytes = b""
    audio_name: str = FILE_NAME
    audio_content_type: str = CONTENT_TYPE
    images: list[bytes] = field(default_factory=list)


def build_scream_event(
    reporter: AudioReporter, trigger: AudioTrigger, *, path: str, clip_s: float, bitrate: int
) -> ScreamEvent:
    peak = trigger.peak
    clip = loudest_clip(peak.samples, clip_s) if peak.samples is not None else None
    details = {
        "source": "detection-worker",
        "audio_source": reporter.source_id,
        "score": round(trigger.confidence, 4),
        "label": trigger.label,
        "class_scores": {name: round(score, 4) for name, score in (peak.class_scores or {}).items()},
        "window_start_s": round(peak.start_ts, 3),
        "window_end_s": round(peak.end_ts, 3),
        "clip_s": round(clip.size / 16000, 3) if clip is not None else 0,
        "detected_at": datetime.fromtimestamp(peak.wall_time, UTC).isoformat(),
    }
    description = (
        f"Distress sound ({trigger.label}) heard on {reporter.source_id} (score {trigger.confidence:.2f})."
    )
    return ScreamEvent(
        camera_id=reporter.source_id,
        device_id=reporter.device_id,
        beacon_id=reporter.beacon_id,
        confidence_score=round(trigger.confidence, 4),
        description=description,
        details=details,
        path=path,
        audio=encode_opus(clip, bitrate) if clip is not None and clip.size else b"",
    )
