"""Faces blurred in evidence images, on the CPU and offline, with the Haar cascade OpenCV ships.

The derivative is a PNG: lossless, so that every pixel outside a face is exactly the original's, and
free of the original's metadata (EXIF, GPS). The original is never modified.
"""

import threading
from dataclasses import dataclass

import cv2
import numpy as np

# Bump when the detector or its parameters change: cached derivatives made by another version are remade.
DETECTOR_VERSION = "haar-frontal+profile-v2"
_CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")
# A face box is grown by this fraction on every side: hair, ears and chin identify people too.
MARGIN = 0.2
# Faces are looked for in a copy at most this many pixels on its longer side (boxes are scaled back):
# the cascade's cost grows with the pixels, and a face under about 40 px in a 1080p frame identifies
# nobody. Settings: PRIVACY_FACE_DETECTION_MAX_SIDE.
DEFAULT_DETECTION_MAX_SIDE = 960
_local = threading.local()


@dataclass(frozen=True)
class Redacted:
    data: bytes
    faces: list[tuple[int, int, int, int]]


def _classifiers() -> list:
    # One set per thread: a CascadeClassifier is not safe to share between threads (the API is threaded).
    if not hasattr(_local, "classifiers"):
        classifiers = [cv2.CascadeClassifier(cv2.data.haarcascades + name) for name in _CASCADES]
        if any(classifier.empty() for classifier in classifiers):
            raise RuntimeError("OpenCV's face cascades are missing from cv2.data")
        _local.classifiers = classifiers
    return _local.classifiers


def _max_side() -> int:
    from django.conf import settings

    return int(getattr(settings, "PRIVACY_FACE_DETECTION_MAX_SIDE", DEFAULT_DETECTION_MAX_SIDE))


def detect_faces(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) in a BGR image; profiles are looked for facing both ways."""
    scale = min(1.0, _max_side() / max(image.shape[:2]))
    if scale < 1.0:
        small = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA)
        return [tuple(round(v / scale) for v in box) for box in _detect(small)]
    return _detect(image)


def _detect(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    min_side = 20
    frontal, profile = _classifiers()
    boxes = [tuple(b) for b in frontal.detectMultiScale(gray, 1.1, 4, minSize=(min_side, min_side))]
    boxes += [tuple(b) for b in profile.detectMultiScale(gray, 1.1, 4, minSize=(min_side, min_side))]
    width = gray.shape[1]
    boxes += [(width - x - w, y, w, h)
              for x, y, w, h in profile.detectMultiScale(cv2.flip(gray, 1), 1.1, 4, minSize=(min_side, min_side))]
    return [tuple(int(v) for v in box) for box in boxes]


def _blur_region(image: np.ndarray, box: tuple[int, int, int, int]) -> None:
    x, y, w, h = box
    dx, dy = int(w * MARGIN), int(h * MARGIN)
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(image.shape[1], x + w + dx), min(image.shape[0], y + h + dy)
    region = image[y0:y1, x0:x1]
    # Pixelate to a 4x4 mosaic, then smooth it: nothing of the features is left to sharpen back.
    small = cv2.resize(region, (4, 4), interpolation=cv2.INTER_AREA)
    mosaic = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    image[y0:y1, x0:x1] = cv2.GaussianBlur(mosaic, (0, 0), max(x1 - x0, y1 - y0) / 8)


def blur_faces(data: bytes) -> Redacted:
    """The image in `data` with every face found blurred, as PNG bytes."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("not an image OpenCV can decode")
    faces = detect_faces(image)
    for box in faces:
        _blur_region(image, box)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - PNG encoding of a decoded image does not fail
        raise ValueError("could not encode the derivative")
    return Redacted(data=encoded.tobytes(), faces=faces)
