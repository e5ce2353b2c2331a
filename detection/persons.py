"""Who is present: a person detector (OpenCV HOG, or a transformers detector) and gender counts on person crops."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from detection.events import PeopleCount
from detection.models.classifiers import Classifier
from detection.models.loading import load_pretrained_exact, resolve_model_dir
from detection.models.runtime import Placement

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int
    score: float


class PersonDetector(ABC):
    @abstractmethod
    def detect(self, frame: np.ndarray) -> list[Box]:
        """People in one BGR frame, in the frame's pixel coordinates, most confident first."""


class HogPersonDetector(PersonDetector):
    """OpenCV's HOG + linear SVM pedestrian detector: no weights to download, upright people about 128 px tall or more."""

    def __init__(self, max_width: int = 640, min_score: float = 0.3, overlap: float = 0.45):
        self.max_width, self.min_score, self.overlap = max_width, min_score, overlap
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect(self, frame: np.ndarray) -> list[Box]:
        scale = min(1.0, self.max_width / frame.shape[1])
        image = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else frame
        rects, weights = self._hog.detectMultiScale(image, winStride=(8, 8), padding=(8, 8), scale=1.05)
        if len(rects) == 0:
            return []
        scores = np.asarray(weights, dtype=np.float32).reshape(-1)
        boxes = [Box(*(int(v / scale) for v in rect), float(score)) for rect, score in zip(rects, scores)]
        return suppress_overlaps(boxes, self.min_score, self.overlap)


class TransformersPersonDetector(PersonDetector):
    """Any transformers object-detection model with a "person" label (YOLOS, DETR-like), e.g. hustvl/yolos-tiny."""

    def __init__(self, source: str, placement: Placement, cache_dir: str | None = None, min_score: float = 0.5):
        import torch
        from transformers import AutoImageProcessor, AutoModelForObjectDetection

        directory = resolve_model_dir(source, role="person detector", setting="person_model", cache_dir=cache_dir)
        self.model = load_pretrained_exact(AutoModelForObjectDetection, directory, role="person detector")
        self.model.to(placement.device)
        self.processor = AutoImageProcessor.from_pretrained(str(directory), local_files_only=True)
        self.person_ids = {i for i, label in self.model.config.id2label.items() if str(label).lower() == "person"}
        if not self.person_ids:
            raise ValueError(f"person detector in {directory} has no 'person' label")
        self.placement, self.min_score, self._torch = placement, min_score, torch

    def detect(self, frame: np.ndarray) -> list[Box]:
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        inputs = self.processor(images=rgb, return_tensors="pt").to(self.placement.device)
        with self._torch.inference_mode(), self.placement.autocast():
            outputs = self.model(**inputs)
        found = self.processor.post_process_object_detection(
            outputs, threshold=self.min_score, target_sizes=[frame.shape[:2]]
        )[0]
        boxes = []
        for score, label, (x0, y0, x1, y1) in zip(found["scores"], found["labels"], found["boxes"].tolist()):
            if int(label) in self.person_ids:
                boxes.append(Box(int(x0), int(y0), int(x1 - x0), int(y1 - y0), float(score)))
        return suppress_overlaps(boxes, self.min_score, 0.6)


def suppress_overlaps(boxes: list[Box], min_score: float, overlap: float) -> list[Box]:
    """Non-maximum suppression: one box per person, or the census would count some people twice."""
    if not boxes:
        return []
    keep = cv2.dnn.NMSBoxes([[b.x, b.y, b.w, b.h] for b in boxes], [b.score for b in boxes], min_score, overlap)
    return sorted((boxes[i] for i in np.asarray(keep).reshape(-1)), key=lambda b: b.score, reverse=True)


def crop(frame: np.ndarray, box: Box, margin: float = 0.1) -> np.ndarray:
    """The box grown by a margin (the gender model was trained on loosely framed people), clipped to the frame."""
    height, width = frame.shape[:2]
    dx, dy = int(box.w * margin), int(box.h * margin)
    x0, y0 = max(0, box.x - dx), max(0, box.y - dy)
    x1, y1 = min(width, box.x + box.w + dx), min(height, box.y + box.h + dy)
    return frame[y0:y1, x0:x1]


class PeopleCounter:
    """Counts people and women and men on an event's evidence frames; runs only when an event fires."""

    def __init__(self, detector: PersonDetector, gender: Classifier, max_people: int = 8):
        self.detector, self.gender, self.max_people = detector, gender, max_people

    def count(self, frames: Sequence[np.ndarray]) -> PeopleCount:
        if not frames:
            return PeopleCount(0, 0, 0, "none")
        # The frame showing the most people is the best census; on a tie, the most violent (first) one.
        detections = [self.detector.detect(frame) for frame in frames]
        best = max(range(len(frames)), key=lambda i: (len(detections[i]), -i))
        boxes = detections[best][: self.max_people]
        kept = [(box, c) for box, c in ((b, crop(frames[best], b)) for b in boxes) if c.size]
        if not kept:
            # Nobody found: say nothing about gender (classifying the whole frame claimed a woman in an empty street).
            return PeopleCount(0, 0, 0, "none")
        probabilities = self.gender.predict([c for _, c in kept])
        female = int(np.sum(np.argmax(probabilities, axis=1) == self.gender.labels.index("female")))
        confidence = float(np.mean([box.score for box, _ in kept]))
        return PeopleCount(len(kept), female, len(probabilities) - female, "person_crops", confidence)


def make_person_detector(
    kind: str, source: str, placement: Callable[[], Placement], cache_dir: str | None = None
) -> PersonDetector:
    """placement is asked for only when the detector runs on PyTorch, so a host without torch can use HOG."""
    if kind == "transformers":
        return TransformersPersonDetector(source, placement(), cache_dir)
    return HogPersonDetector()
