"""Pre-roll clips on the platform: a clip is accepted only if it decodes whole (WebM or MP4, bounded), and
responders are shown a copy with every face blurred, frame by frame (privacy.redaction), never the original."""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np
from django.utils import timezone

from common.errors import InvalidInput
from incidents.evidence import MAX_PIXELS
from privacy import redaction

# A worker keeps at most 6 key frames per pre-roll; a clip of many more is not one of ours.
MAX_FRAMES = 60
CONTENT_TYPES = {"webm": "video/webm", "mp4": "video/mp4"}


@dataclass(frozen=True)
class CheckedClip:
    data: bytes
    content_type: str
    sha256: str
    width: int
    height: int
    fps: float
    frames: int

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def extension(self) -> str:
        return self.content_type.split("/")[1]


def _refuse(reason: str) -> InvalidInput:
    return InvalidInput(f"Clip {reason}", fields={"clip": [f"The clip {reason}"]})


def _container(data: bytes) -> str | None:
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if data[4:8] == b"ftyp":
        return "mp4"
    return None


@contextmanager
def _frames(data: bytes, extension: str) -> Iterator[tuple[Iterator[np.ndarray], float]]:
    """The clip's frames one at a time (never all in memory), and its frame rate. OpenCV reads video from files."""
    handle, path = tempfile.mkstemp(suffix=f".{extension}", prefix="clip-")
    capture = None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        capture = cv2.VideoCapture(path)

        def read():
            for _ in range(MAX_FRAMES + 1):
                ok, frame = capture.read()
                if not ok:
                    return
                if frame.shape[0] * frame.shape[1] > MAX_PIXELS:
                    raise _refuse(f"has frames of more than {MAX_PIXELS} pixels.")
                yield frame

        yield read(), capture.get(cv2.CAP_PROP_FPS) or 1.0
    finally:
        if capture is not None:
            capture.release()
        os.unlink(path)


def inspect_clip(upload, *, max_bytes: int) -> CheckedClip:
    """Read `upload` once; accept it only if it is a WebM or MP4 whose frames decode (the declared type is ignored)."""
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _refuse(f"is larger than the limit of {max_bytes} bytes.")
    container = _container(data)
    if container is None:
        raise _refuse("is not a WebM or MP4 video.")
    count, shape = 0, None
    with _frames(data, container) as (frames, fps):
        for frame in frames:
            count, shape = count + 1, shape or frame.shape
    if not count:
        raise _refuse("has no frame that decodes.")
    if count > MAX_FRAMES:
        raise _refuse(f"has more than {MAX_FRAMES} frames.")
    return CheckedClip(data=data, content_type=CONTENT_TYPES[container], sha256=hashlib.sha256(data).hexdigest(),
                       width=shape[1], height=shape[0], fps=float(fps), frames=count)


def blurred_copy(clip: CheckedClip) -> tuple[bytes, int]:
    """The clip with every face found blurred in every frame, as WebM; and how many faces were blurred."""
    faces = 0
    handle, path = tempfile.mkstemp(suffix=".webm", prefix="clip-redacted-")
    os.close(handle)
    size = (clip.width, clip.height)
    try:
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"VP80"), clip.fps, size)
        if not writer.isOpened():  # pragma: no cover - OpenCV's FFmpeg build writes VP8
            raise RuntimeError("OpenCV cannot write WebM here")
        with _frames(clip.data, clip.extension) as (frames, _):
            for frame in frames:
                redacted = redaction.blur_faces(cv2.imencode(".png", frame)[1].tobytes())
                faces += len(redacted.faces)
                image = cv2.imdecode(np.frombuffer(redacted.data, np.uint8), cv2.IMREAD_COLOR)
                writer.write(image if image.shape[1::-1] == size else cv2.resize(image, size))
        writer.release()
        with open(path, "rb") as file:
            return file.read(), faces
    finally:
        os.unlink(path)


def clip_path(extension: str) -> str:
    """camera-clips/YYYY/MM/DD/<uuid>.<ext>: unguessable, like every evidence file's name."""
    return f"camera-clips/{timezone.now():%Y/%m/%d}/{uuid.uuid4()}.{extension}"
