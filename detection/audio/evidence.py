"""Audio evidence: the loudest few seconds of the triggering window, encoded as Opus in Ogg (3 KB a second at the default 24 kbit/s)."""

from __future__ import annotations

import io

import av
import numpy as np

from detection.audio.capture import SAMPLE_RATE

CONTENT_TYPE = "audio/ogg"
FILE_NAME = "clip.ogg"


def loudest_clip(samples: np.ndarray, clip_s: float) -> np.ndarray:
    """The clip_s seconds of `samples` with the most energy, found in 100 ms steps; the whole input when shorter."""
    length = int(clip_s * SAMPLE_RATE)
    if samples.size <= length:
        return samples
    step = SAMPLE_RATE // 10
    energy = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    starts = np.arange(0, samples.size - length + 1, step)
    best = int(starts[np.argmax(energy[starts + length] - energy[starts])])
    return samples[best:best + length]


def encode_opus(samples: np.ndarray, bitrate: int = 24000) -> bytes:
    """Mono float samples at 16 kHz as an Ogg Opus file that browsers play."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ogg") as container:
        # The bitrate goes in as an encoder option: setting it on the stream after creation is ignored by libopus.
        stream = container.add_stream("libopus", rate=SAMPLE_RATE, layout="mono", options={"b": str(bitrate)})
        frame = av.AudioFrame.from_ndarray(
            np.clip(samples, -1.0, 1.0).astype(np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = SAMPLE_RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()
