"""Events: what one violence report says — score, who is present, priority hint, evidence JPEGs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import cv2
import numpy as np

from detection.config import CameraConfig
from detection.decision import Trigger


@dataclass(frozen=True)
class PeopleCount:
    people: int  # persons the detector found
    female: int  # of those, classified female (context only: never a reason to raise an event)
    male: int
    basis: str  # "person_crops", or "none" when nobody was found (and nothing is said about gender)
    confidence: float | None = None  # the person detector's mean score over the people counted

    @property
    def woman_present(self) -> bool:
        return self.basis == "person_crops" and self.female > 0


@dataclass(frozen=True)
class ViolenceEvent:
    """Everything the API is sent for one event; images are JPEG bytes, most violent first."""

    camera_id: str
    device_id: str
    beacon_id: str
    confidence_score: float
    description: str
    details: dict
    images: list[bytes] = field(default_factory=list)


def priority_hint(people: PeopleCount) -> str:
    # The platform exists for women's safety: a woman at the scene of a fight makes it the most urgent kind.
    return "critical" if people.woman_present else "high"


def describe(camera: CameraConfig, trigger: Trigger, people: PeopleCount) -> str:
    """What was seen, worded no stronger than the models allow; nothing about people when none was found."""
    headline = f"Violence detected on camera {camera.id} (score {trigger.confidence:.2f})"
    if people.basis != "person_crops" or people.people == 0:
        return f"{headline}."
    confidence = "" if people.confidence is None else f", detector confidence {people.confidence:.2f}"
    noun = "person" if people.people == 1 else "people"
    return (f"{headline}: {people.people} {noun} seen{confidence}; appearance classified as "
            f"{people.female} female, {people.male} male.")


def build_event(camera: CameraConfig, trigger: Trigger, people: PeopleCount, jpeg_quality: int = 85) -> ViolenceEvent:
    details = {
        "source": "detection-worker",
        "camera": camera.id,
        "score": round(trigger.confidence, 4),
        "peak_score": round(trigger.peak, 4),
        "frame_scores": [round(f.score, 4) for f in trigger.evidence],
        "people": people.people,
        "female": people.female,
        "male": people.male,
        "gender_basis": people.basis,
        "person_confidence": None if people.confidence is None else round(people.confidence, 4),
        "woman_present": people.woman_present,
        "priority_hint": priority_hint(people),
        "detected_at": datetime.fromtimestamp(trigger.wall_time, UTC).isoformat(),
    }
    return ViolenceEvent(
        camera_id=camera.id,
        device_id=camera.device_id,
        beacon_id=camera.beacon_id,
        confidence_score=round(trigger.confidence, 4),
        description=describe(camera, trigger, people),
        details=details,
        images=[encode_jpeg(f.image, jpeg_quality) for f in trigger.evidence if f.image is not None],
    )


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("OpenCV could not encode the evidence frame as JPEG")
    return buffer.tobytes()
