"""int8 calibration frames from the cameras, and the accuracy gate a quantized model must pass before it is used."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

# CPU flags with an int8 dot product that accumulates in 32 bits. Without one (AVX2 alone, as on older or
# smaller x86 servers), int8 matrix products go through 16-bit intermediate sums that saturate, and an int8
# model quantized with full 8-bit weights drifts far from fp32 (on one AVX2-only machine the accuracy gate
# measured a 0.09-0.11 change in violence probability, against 0.02 allowed).
VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> frozenset[str]:
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def needs_overflow_fix(flags: frozenset[str] | None = None) -> bool:
    """True on an x86 CPU without a VNNI-class int8 instruction: quantize weights to 7 bits so that the
    16-bit intermediate sums cannot saturate (NNCF's overflow fix on every layer, not only the first).
    Not x86 (no flags line): False."""
    flags = cpu_flags() if flags is None else flags
    return bool(flags) and "avx2" in flags and not (flags & VNNI_FLAGS)


def nncf_parameters() -> dict:
    """Extra arguments for nncf.quantize on this CPU, and a tag for the model cache (a model quantized for
    a CPU without VNNI is not the one quantized for a CPU with it)."""
    import nncf

    if needs_overflow_fix():
        return {"advanced_parameters": nncf.AdvancedQuantizationParameters(overflow_fix=nncf.OverflowFix.ENABLE)}
    return {}


def quantization_tag() -> str:
    return "+overflowfix" if needs_overflow_fix() else ""


# Every HELD_OUT_EVERY-th frame is kept out of calibration and used only to check the quantized model.
HELD_OUT_EVERY = 4
MIN_CALIBRATION, MIN_HELD_OUT = 8, 4


@dataclass(frozen=True)
class CalibrationSet:
    """Frames written by `python -m detection calibrate`: <calibration_dir>/<camera id>/<n>.jpg."""

    calibration: tuple[Path, ...]
    held_out: tuple[Path, ...]
    fingerprint: str

    @classmethod
    def load(cls, directory: str | Path) -> CalibrationSet | None:
        """The frames split into calibration and held-out ones; None when there are too few to quantize with."""
        paths = sorted(Path(directory).glob("*/*.jpg"))
        held_out = tuple(p for i, p in enumerate(paths) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1)
        calibration = tuple(p for i, p in enumerate(paths) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1)
        if len(calibration) < MIN_CALIBRATION or len(held_out) < MIN_HELD_OUT:
            return None
        digest = hashlib.sha256()
        for path in paths:
            digest.update(f"{path.parent.name}/{path.name}\0".encode() + hashlib.sha256(path.read_bytes()).digest())
        return cls(calibration, held_out, digest.hexdigest())

    @staticmethod
    def images(paths: tuple[Path, ...]) -> list[np.ndarray]:
        images = [cv2.imread(str(path), cv2.IMREAD_COLOR) for path in paths]
        return [image for image in images if image is not None]


@dataclass(frozen=True)
class GateResult:
    """How far a candidate moved the violence probabilities from the reference on the held-out frames."""

    accepted: bool
    max_delta: float
    mean_delta: float
    flips: int
    frames: int
    tolerance: float
    threshold: float

    def describe(self) -> str:
        return (
            f"max violence probability change {self.max_delta:.4f} (mean {self.mean_delta:.4f}, tolerance "
            f"{self.tolerance:g}), {self.flips} of {self.frames} held-out frames flip at threshold {self.threshold:g}"
        )


def accuracy_gate(reference: np.ndarray, candidate: np.ndarray, *, threshold: float, tolerance: float) -> GateResult:
    """Accept a candidate only when no violence probability moves more than tolerance and no decision flips."""
    reference, candidate = np.asarray(reference, np.float64), np.asarray(candidate, np.float64)
    delta = np.abs(reference - candidate)
    flips = int(np.sum((reference >= threshold) != (candidate >= threshold)))
    max_delta = float(delta.max()) if delta.size else 0.0
    return GateResult(
        accepted=delta.size > 0 and max_delta <= tolerance and flips == 0,
        max_delta=max_delta, mean_delta=float(delta.mean()) if delta.size else 0.0, flips=flips,
        frames=int(delta.size), tolerance=tolerance, threshold=threshold,
    )
