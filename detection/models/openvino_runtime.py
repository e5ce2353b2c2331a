"""OpenVINO: the default runtime on CPUs; its own AVX-512/VNNI/AMX kernels, and no torch needed at run time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detection.models import int8
from detection.models.runtime import Runtime

MODEL_FILE = "model.xml"
# fp32 and bf16 share one IR: precision is a compile-time hint. int8 is its own, quantized IR.
PRECISION_HINTS = {"fp32": "f32", "bf16": "bf16"}


def version() -> str:
    import openvino

    return openvino.__version__.split("-")[0]


class OpenVINORuntime(Runtime):
    """A batch is split across independent inference requests ("streams"), each on its own share of the threads.

    One request spread over every thread makes each layer wait for the slowest thread; on a CPU shared with other
    work that thread is often descheduled, and the others spin. Streams never wait on each other's threads: on the
    2-core benchmark machine two single-thread streams spent about 10% less CPU per image than one two-thread
    request, and delivered 1.5-2x the images per second while other processes used the cores (docs/benchmarks.md).
    """

    name = "openvino"

    def __init__(self, directory: Path, precision: str, threads: int | None = None, streams: int | None = None):
        import openvino as ov

        config: dict[str, object] = {"PERFORMANCE_HINT": "LATENCY" if streams == 1 else "THROUGHPUT"}
        if streams and streams > 1:
            config["NUM_STREAMS"] = streams
        if precision in PRECISION_HINTS:
            config["INFERENCE_PRECISION_HINT"] = PRECISION_HINTS[precision]
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        self.compiled = ov.Core().compile_model(str(directory / MODEL_FILE), "CPU", config)
        # Requests are reused: the analyser is the only caller of a classifier, so calls never overlap.
        count = 1 if streams == 1 else max(1, int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
        self.requests = [self.compiled.create_infer_request() for _ in range(count)]
        self.precision = precision

    @property
    def streams(self) -> int:
        return len(self.requests)

    def infer(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        parts = np.array_split(batch, min(len(self.requests), len(batch))) if len(batch) else [batch]
        working = self.requests[: len(parts)]
        for request, part in zip(working, parts):
            request.start_async({0: part})
        for request in working:
            request.wait()
        # Copies: a request's output buffer is overwritten by its next call.
        return np.concatenate([np.array(r.get_output_tensor(0).data, dtype=np.float32) for r in working])

    def describe(self) -> str:
        hint = self.compiled.get_property("INFERENCE_PRECISION_HINT")
        hint = hint.get_type_name() if hasattr(hint, "get_type_name") else str(hint)
        threads = self.compiled.get_property("INFERENCE_NUM_THREADS")
        return (f"openvino {version()}, {self.precision} (kernels in {hint}), {threads} CPU threads, "
                f"{self.streams} stream{'s' if self.streams > 1 else ''}")


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
        model_type=nncf.ModelType.TRANSFORMER, **int8.nncf_parameters(),
    )
    ov.save_model(quantized, str(directory / MODEL_FILE), compress_to_fp16=False)
