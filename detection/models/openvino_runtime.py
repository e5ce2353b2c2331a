"""OpenVINO: the default runtime on CPUs; its own AVX-512/VNNI/AMX kernels, and no torch needed at run time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detection.models.runtime import Runtime

MODEL_FILE = "model.xml"
# fp32 and bf16 share one IR: precision is a compile-time hint. int8 is its own, quantized IR.
PRECISION_HINTS = {"fp32": "f32", "bf16": "bf16"}


def version() -> str:
    import openvino

    return openvino.__version__.split("-")[0]


class OpenVINORuntime(Runtime):
    name = "openvino"

    def __init__(self, directory: Path, precision: str, threads: int | None = None):
        import openvino as ov

        config: dict[str, object] = {"PERFORMANCE_HINT": "LATENCY"}
        if precision in PRECISION_HINTS:
            config["INFERENCE_PRECISION_HINT"] = PRECISION_HINTS[precision]
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        self.compiled = ov.Core().compile_model(str(directory / MODEL_FILE), "CPU", config)
        # One request, reused: the analyser is the only caller of a classifier, so calls never overlap.
        self.request = self.compiled.create_infer_request()
        self.precision = precision

    def infer(self, batch: np.ndarray) -> np.ndarray:
        self.request.infer({0: np.ascontiguousarray(batch, dtype=np.float32)})
        return np.array(self.request.get_output_tensor(0).data, dtype=np.float32)

    def describe(self) -> str:
        hint = self.compiled.get_property("INFERENCE_PRECISION_HINT")
        hint = hint.get_type_name() if hasattr(hint, "get_type_name") else str(hint)
        threads = self.compiled.get_property("INFERENCE_NUM_THREADS")
        return f"openvino {version()}, {self.precision} (kernels in {hint}), {threads} CPU threads"


def save_converted(model, example: np.ndarray, directory: Path) -> None:
    """Convert a PyTorch classifier (pixel_values in, logits out) to OpenVINO IR, with a dynamic batch."""
    import warnings

    import openvino as ov
    import torch

    with warnings.catch_warnings():
        # The tracer notes that the image-size checks become constants: they are, the size is fixed per model.
        warnings.simplefilter("ignore")
        converted = ov.convert_model(
            model, example_input=torch.from_numpy(example),
            input=[("pixel_values", [-1, *example.shape[1:]], ov.Type.f32)],
        )
    # Weights stay fp32 on disk; the precision is chosen when the model is compiled.
    ov.save_model(converted, str(directory / MODEL_FILE), compress_to_fp16=False)


def save_quantized(source: Path, calibration: list[np.ndarray], directory: Path) -> None:
    """NNCF post-training int8 quantization of the fp32 IR, its activation ranges taken from the calibration batches."""
    import nncf
    import openvino as ov

    model = ov.Core().read_model(str(source / MODEL_FILE))
    quantized = nncf.quantize(
        model, nncf.Dataset(calibration), subset_size=len(calibration),
        model_type=nncf.ModelType.TRANSFORMER,
    )
    ov.save_model(quantized, str(directory / MODEL_FILE), compress_to_fp16=False)
