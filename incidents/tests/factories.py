"""Test data for incidents: real image bytes of each kind, uploads, and report payloads."""

import io
import os

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(image_format: str = "JPEG", *, size=(64, 48), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=image_format)
    return buffer.getvalue()


def noise_png(size=(700, 700)) -> bytes:
    """A PNG that does not compress: about 3 bytes per pixel."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name: str = "frame.jpg", data: bytes | None = None, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes() if data is None else data, content_type=content_type)


def jpegs(count: int) -> list[SimpleUploadedFile]:
    return [upload(f"frame{n}.jpg", image_bytes(color=(n * 40 % 256, 10, 10))) for n in range(count)]


def report(beacon_id: str, confidence: float = 0.95, **extra) -> dict:
    return {"beacon_id": beacon_id, "confidence_score": confidence, "description": "Fight detected", **extra}
