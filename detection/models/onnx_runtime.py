"""ONNX Runtime: the CPU runtime where OpenVINO is unavailable (e.g. ARM); no torch needed at run time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detection.models import int8
from detection.models.runtime import Runtime

MODEL_FILE = "model.onnx"
INPUT = "pixel_values"


def version() -> str:
    import onnxruntime

    return onnxruntime.__version__


class OnnxRuntime(Runtime):
    name = "onnxruntime"

    def __init__(self, directory: Path, precision: str, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or 0
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(directory / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        self.precision = precision
        self.threads = threads

    def infer(self, batch: np.ndarray) -> np.ndarray:
        (logits,) = self.session.run(None, {INPUT: np.ascontiguousarray(batch, dtype=np.float32)})
        return np.asarray(logits, dtype=np.float32)

    def describe(self) -> str:
        return f"onnxruntime {version()}, {self.precision}, {self.threads or 'default'} CPU threads"


def save_converted(model, example: np.ndarray, directory: Path) -> None:
    """Export a PyTorch classifier (pixel_values in, logits out) to ONNX with a dynamic batch."""
    import warnings

    import torch

    with warnings.catch_warnings():
        # The TorchScript exporter is the one that needs no extra packages; its deprecation notice and the tracer's
        # notes on shape checks (the image size is fixed per model) would only repeat at every conversion.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.from_numpy(example),), str(directory / MODEL_FILE), input_names=[INPUT],
            output_names=["logits"], dynamic_axes={INPUT: {0: "batch"}, "logits": {0: "batch"}},
            opset_version=17, dynamo=False,
        )


def save_quantized(source: Path, calibration: list[np.ndarray], directory: Path) -> None:
    """NNCF post-training int8 quantization (QDQ) of the fp32 ONNX model, ranges from the calibration batches."""
    import nncf
    import onnx

    model = onnx.load(str(source / MODEL_FILE))
    quantized = nncf.quantize(
        model, nncf.Dataset([{INPUT: batch} for batch in calibration]),
        subset_size=len(calibration), model_type=nncf.ModelType.TRANSFORMER, **int8.nncf_parameters(),
    )
    onnx.save(quantized, str(directory / MODEL_FILE))
