"""Runtimes: where and in which precision a model runs, behind one small interface, `Runtime.infer(batch)`."""

from __future__ import annotations

import contextlib
import logging
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from detection.config import InferenceSettings
from detection.models.errors import ModelError, ModelLoadError

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)


class Runtime(ABC):
    """Runs one image classifier: a batch of preprocessed pixels (N, 3, H, W float32) in, logits (N, classes) out."""

    name: str
    precision: str

    @abstractmethod
    def infer(self, batch: np.ndarray) -> np.ndarray:
        """Logits as float32, one row per image."""

    def describe(self) -> str:
        return f"{self.name}, {self.precision}"


# PyTorch -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where and in which precision PyTorch runs the models, and why that precision was chosen."""

    device: torch.device
    autocast_dtype: torch.dtype | None = None
    int8: bool = False
    reason: str = ""

    @property
    def precision(self) -> str:
        return "int8" if self.int8 else "bf16" if self.autocast_dtype is not None else "fp32"

    def autocast(self) -> contextlib.AbstractContextManager:
        import torch

        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def prepare(self, model: torch.nn.Module) -> torch.nn.Module:
        """The model on this device, in eval mode, its Linear layers quantized to int8 when asked."""
        model = model.to(self.device).eval()
        return quantize_linear_int8(model) if self.int8 else model

    def describe(self) -> str:
        import torch

        precision = {"int8": "int8 dynamic quantization of Linear layers", "bf16": "bf16 autocast"}.get(
            self.precision, "fp32"
        )
        return f"{self.device.type}, {precision}, {torch.get_num_threads()} CPU threads"


class TorchRuntime(Runtime):
    """PyTorch eager mode: the reference every other runtime is compared with, and the one for GPUs."""

    name = "torch"

    def __init__(self, model: torch.nn.Module, placement: Placement):
        # The loaders hand over only a model whose every weight was checked, so int8 quantization (in prepare)
        # never freezes initial values.
        self.model = placement.prepare(model)
        self.placement = placement
        self.precision = placement.precision

    def infer(self, batch: np.ndarray) -> np.ndarray:
        import torch

        pixels = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(self.placement.device)
        with torch.inference_mode(), self.placement.autocast():
            logits = self.model(pixel_values=pixels).logits
        return logits.float().cpu().numpy()

    def describe(self) -> str:
        return f"torch on {self.placement.describe()}"


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_native_bf16() -> bool:
    """True where this CPU runs bf16 matmuls in hardware (avx512_bf16 or AMX)."""
    return bool({"avx512_bf16", "amx_bf16"} & _cpu_flags())


def native_bf16(device: torch.device) -> bool:
    """True where bf16 matmuls run in hardware; elsewhere bf16 autocast is emulated and many times slower than fp32."""
    import torch

    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return cpu_native_bf16()


def int8_unavailable() -> str | None:
    """Why this torch cannot run dynamically quantized Linear layers on the CPU, or None when it can."""
    import torch

    quantization = getattr(getattr(torch, "ao", None), "quantization", None)
    if not hasattr(quantization, "quantize_dynamic"):
        return f"torch {torch.__version__} has no torch.ao.quantization.quantize_dynamic"
    if torch.backends.quantized.engine == "none":
        return f"torch {torch.__version__} has no quantized CPU engine"
    return None


def quantize_linear_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Replace every nn.Linear with a dynamically quantized int8 one (weights int8 per tensor, activations per batch).

    Quantizing freezes whatever the weights are, so it is only ever applied to a fully loaded model: tensors still
    on the meta device mean the load was not verified, and are refused rather than quantized.
    """
    import torch

    on_meta = [name for name, tensor in [*model.named_parameters(), *model.named_buffers()] if tensor.is_meta]
    if on_meta:
        raise ModelLoadError(f"refusing to quantize a model whose weights were not loaded: {', '.join(on_meta[:6])}")
    if any(p.device.type != "cpu" for p in model.parameters()):
        raise ModelError("int8 dynamic quantization runs on the CPU only")
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated upstream in favour of torchao, yet it is still the built-in path and
        # works in the pinned torch; its deprecation notices would only repeat at every start-up.
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor.* are deprecated", category=UserWarning)
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def resolve_placement(settings: InferenceSettings) -> Placement:
    """The device and precision PyTorch uses, from the configuration and what this machine has."""
    import torch

    if settings.threads:
        torch.set_num_threads(settings.threads)
    if settings.device == "cuda" and not torch.cuda.is_available():
        raise ModelError("inference.device is cuda but PyTorch sees no CUDA device (is the CUDA build of torch installed?)")
    use_cuda = settings.device == "cuda" or (settings.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if use_cuda else "cpu")
    placement = _choose_precision(settings.precision, device)
    logger.info("inference on %s in %s: %s", device.type, placement.precision, placement.reason)
    return placement


def _choose_precision(precision: str, device: torch.device) -> Placement:
    import torch

    native = native_bf16(device)
    if precision == "fp32":
        return Placement(device, reason="precision fp32 configured")
    if precision == "bf16":
        if not native:
            logger.warning("bf16 requested but %s has no native bf16: expect it to be slower than fp32", device.type)
        return Placement(device, torch.bfloat16, reason="precision bf16 configured")
    if precision == "int8":
        if device.type != "cpu":
            raise ModelError(
                "inference.precision int8 runs on the CPU only but the models would run on CUDA; "
                "use precision auto or bf16 there, or set inference.device to cpu"
            )
        if problem := int8_unavailable():
            raise ModelError(f"inference.precision int8 cannot be used: {problem}; use fp32 or auto")
        return Placement(device, int8=True, reason="precision int8 configured")
    if native:
        where = "the GPU" if device.type == "cuda" else "the CPU (avx512_bf16/AMX)"
        return Placement(device, torch.bfloat16, reason=f"auto, {where} has native bf16")
    if device.type == "cuda":
        return Placement(device, reason="auto, the GPU has no native bf16")
    if problem := int8_unavailable():
        return Placement(device, reason=f"auto, the CPU has no native bf16 and {problem}")
    return Placement(
        device, int8=True,
        reason="auto, the CPU has no native bf16 (emulated bf16 is slower than fp32), so int8 Linear layers are fastest",
    )
