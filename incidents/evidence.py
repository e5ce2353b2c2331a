"""Evidence intake: an upload is accepted only if its bytes decode whole: a JPEG, PNG or WebP image, or an audio clip."""

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


# Audio ------------------------------------------------------------------------------------------

# Each accepted container, recognised by its first bytes, with the FFmpeg demuxer that alone may read it
# (so no other of FFmpeg's many parsers ever sees an upload) and the codecs it may carry.
AUDIO_FORMATS = {
    "ogg": ("audio/ogg", {"opus", "vorbis"}),
    "wav": ("audio/wav", {"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_u8"}),
    "flac": ("audio/flac", {"flac"}),
}
MAX_AUDIO_SECONDS = 60


@dataclass(frozen=True)
class EvidenceAudio:
    data: bytes
    content_type: str
    sha256: str
    duration_s: float
    sample_rate: int

    @property
    def size(self) -> int:
        return len(self.data)


def _refuse_audio(name: str, reason: str) -> InvalidInput:
    message = f"Audio ({name}) {reason}"
    return InvalidInput(message, fields={"audio": [message]})


def _audio_container(data: bytes) -> str | None:
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"fLaC":
        return "flac"
    return None


def inspect_audio(upload, *, max_bytes: int) -> EvidenceAudio:
    """Read `upload` once and decode it whole: an Ogg (Opus, Vorbis), WAV or FLAC clip of one track, at most a minute."""
    import av  # imported here: only audio uploads need FFmpeg

    name = getattr(upload, "name", None) or "unnamed"
    declared_size = getattr(upload, "size", None)
    if declared_size is not None and declared_size > max_bytes:
        raise _refuse_audio(name, f"is larger than the limit of {max_bytes} bytes.")
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _refuse_audio(name, f"is larger than the limit of {max_bytes} bytes.")
    if not data:
        raise _refuse_audio(name, "is empty.")
    container_format = _audio_container(data)
    if container_format is None:
        raise _refuse_audio(name, "is not an Ogg (Opus or Vorbis), WAV or FLAC file.")
    content_type, codecs = AUDIO_FORMATS[container_format]
    try:
        with av.open(io.BytesIO(data), format=container_format) as container:
            if len(container.streams) != 1 or not container.streams.audio:
                raise _refuse_audio(name, "must hold exactly one audio track and nothing else.")
            stream = container.streams.audio[0]
            if stream.codec_context.name not in codecs:
                raise _refuse_audio(name, f"uses the {stream.codec_context.name} codec, not one of {', '.join(sorted(codecs))}.")
            samples, rate = 0, stream.codec_context.sample_rate or 0
            for frame in container.decode(stream):
                samples += frame.samples
                rate = frame.sample_rate
                if rate and samples > MAX_AUDIO_SECONDS * rate:
                    raise _refuse_audio(name, f"is longer than {MAX_AUDIO_SECONDS} seconds.")
    except InvalidInput:
        raise
    except (av.FFmpegError, ValueError, OSError, EOFError):
        raise _refuse_audio(name, "could not be decoded.") from None
    if not samples or not rate:
        raise _refuse_audio(name, "holds no sound.")
    return EvidenceAudio(
        data=data, content_type=content_type, sha256=hashlib.sha256(data).hexdigest(),
        duration_s=round(samples / rate, 3), sample_rate=rate,
    )
