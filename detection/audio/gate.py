"""Audio gate: an energy and frequency-band check, the audio counterpart of the motion gate, in front of the model."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from detection.audio.capture import SAMPLE_RATE
from detection.config import AudioGateSettings

FRAME_SAMPLES = SAMPLE_RATE // 50  # 20 ms
# Screams and shouts carry most of their energy here, breaking glass and shots much of theirs; rumble hardly any.
DISTRESS_BAND_HZ = (250.0, 8000.0)
# The noise floor follows quieter surroundings at once and louder ones slowly (about 20 hops), so a
# scream that lasts a few seconds is not absorbed into the floor it is judged against.
FLOOR_RISE = 0.05
SILENCE_DB = -100.0


@dataclass(frozen=True)
class GateResult:
    active: bool  # the window ending with this hop goes to the model
    loud: bool  # this hop itself passed (active may also come from the hold)
    level_db: float  # loudest 20 ms frame of the hop, dBFS
    loud_fraction: float
    band_ratio: float


class AudioGate(ABC):
    @abstractmethod
    def apply(self, hop: np.ndarray) -> GateResult:
        """Judge the newest hop (float32 samples at 16 kHz) of one source."""

    def reset(self) -> None:
        """Forget the source's history (after a reconnect)."""


class OpenGate(AudioGate):
    """The gate switched off: every window goes to the model."""

    def apply(self, hop: np.ndarray) -> GateResult:
        return GateResult(True, True, 0.0, 1.0, 1.0)


class EnergyVoiceGate(AudioGate):
    """Loud 20 ms frames (absolute level and above the running noise floor), enough of them, above the rumble."""

    def __init__(self, settings: AudioGateSettings):
        self.settings = settings
        self.reset()

    def reset(self) -> None:
        self.floor_db = self.settings.min_level_db - self.settings.above_floor_db
        self._hold = 0

    def apply(self, hop: np.ndarray) -> GateResult:
        levels = frame_levels_db(hop)
        threshold = max(self.settings.min_level_db, self.floor_db + self.settings.above_floor_db)
        loud_frames = levels >= threshold
        loud_fraction = float(loud_frames.mean()) if levels.size else 0.0
        loud = loud_fraction >= self.settings.min_loud_fraction
        band = band_ratio(hop) if loud and self.settings.min_band_ratio > 0 else 1.0
        loud = loud and band >= self.settings.min_band_ratio
        self._follow_floor(levels)
        self._hold = self.settings.hold_hops if loud else max(self._hold - 1, 0)
        level = float(levels.max()) if levels.size else SILENCE_DB
        return GateResult(self._hold > 0, loud, level, loud_fraction, band)

    def _follow_floor(self, levels: np.ndarray) -> None:
        if not levels.size:
            return
        quiet = float(np.percentile(levels, 20))
        self.floor_db = quiet if quiet < self.floor_db else self.floor_db + FLOOR_RISE * (quiet - self.floor_db)


def frame_levels_db(samples: np.ndarray) -> np.ndarray:
    """RMS level of each whole 20 ms frame, in dB relative to full scale."""
    count = samples.size // FRAME_SAMPLES
    frames = samples[: count * FRAME_SAMPLES].reshape(count, FRAME_SAMPLES).astype(np.float64)
    power = np.mean(frames * frames, axis=1)
    return 10.0 * np.log10(np.maximum(power, 1e-10))


def band_ratio(samples: np.ndarray) -> float:
    """Share of the hop's energy (DC excluded) between 250 Hz and 8 kHz."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1.0 / SAMPLE_RATE)
    total = float(spectrum[1:].sum())
    if total <= 0:
        return 0.0
    band = (freqs >= DISTRESS_BAND_HZ[0]) & (freqs <= DISTRESS_BAND_HZ[1])
    return float(spectrum[band].sum()) / total


def make_audio_gate(settings: AudioGateSettings) -> AudioGate:
    return EnergyVoiceGate(settings) if settings.enabled else OpenGate()
