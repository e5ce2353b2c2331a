"""Evidence intake: an upload is accepted only if its bytes are a whole JPEG, PNG or WebP image within the limits."""

import hashlib
import io
import threading
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from common.errors import InvalidInput

CONTENT_TYPE_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Decoding is what proves an image whole. At most 12 megapixels (4000 × 3000, more than any CCTV frame;
# about 36 MB decoded as RGB), and one decode at a time per process, so that a burst of large but legal
# images cannot add up (a 6320 × 6320 PNG alone took about 150 MiB).
MAX_PIXELS = 12_000_000
_decoding = threading.Lock()


@dataclass(frozen=True)
class EvidenceImage:
    data: bytes
    content_type: str
    sha256: str
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.data)


def _refuse(number: int, name: str, reason: str) -> InvalidInput:
    message = f"Image {number} ({name}) {reason}"
    return InvalidInput(message, fields={"images": [message]})


def inspect_image(upload, *, number: int, max_bytes: int) -> EvidenceImage:
    """Read `upload` once and return its bytes with what they are; the file name and declared type are ignored."""
    name = getattr(upload, "name", None) or "unnamed"
    declared_size = getattr(upload, "size", None)
    if declared_size is not None and declared_size > max_bytes:
        raise _refuse(number, name, f"is larger than the limit of {max_bytes} bytes.")
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _refuse(number, name, f"is larger than the limit of {max_bytes} bytes.")
    if not data:
        raise _refuse(number, name, "is empty.")
    try:
        with _decoding, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format, (width, height) = image.format, image.size
                if width * height > MAX_PIXELS:
                    raise _refuse(number, name, f"has more than {MAX_PIXELS} pixels.")
                # verify() checks the structure; load() decodes, which also catches a truncated file.
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise _refuse(number, name, "is not a valid JPEG, PNG or WebP image.") from None
    if image_format not in CONTENT_TYPE_BY_FORMAT:
        raise _refuse(number, name, f"is a {image_format} image; only JPEG, PNG and WebP are accepted.")
    return EvidenceImage(
        data=data,
        content_type=CONTENT_TYPE_BY_FORMAT[image_format],
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
    )
