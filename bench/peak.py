"""This CPU's measured arithmetic peak for fp32, bf16 and int8 matrix products (OpenVINO's oneDNN kernels).

    .venv/bin/python bench/peak.py --threads 2

Large matrix products are about the best case for every kernel library: compute-bound and tiling perfectly,
so their rate is what a model's arithmetic could reach at most on this machine. Measured: a 2048x2048 square and
the two shapes of a ViT-B/16 MLP at batch 8 (1576x768 by 768x3072 and back); the best one counts. fp32 and bf16
are each product compiled with OpenVINO's precision hint; int8 is that product quantized by NNCF (both operands
int8), which OpenVINO runs on VNNI/AMX int8 kernels where the CPU has them. Rates are in GOP/s, counting a
multiply and an add as two operations, as model FLOP counts do.

Each product runs on one thread and is timed in that process's CPU time, then multiplied by the thread count:
on a machine shared with other work, the wall clock of a measurement stretches with everyone else's load, its CPU
time hardly at all (a 2-thread wall-clock measurement on this project's shared machine once gave a third of the
quiet figure). This assumes the cores are alike and the work scales across them, as these products do.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

SHAPES = ((2048, 2048, 2048), (1576, 768, 3072), (1576, 3072, 768))


def _matmul_model(shape: tuple[int, int, int]):
    import openvino as ov
    from openvino import opset13

    rows, inner, cols = shape
    rng = np.random.default_rng(0)
    data = opset13.parameter([rows, inner], np.float32, name="a")
    weights = opset13.constant(rng.standard_normal((cols, inner)).astype(np.float32) / inner ** 0.5)
    return ov.Model([opset13.matmul(data, weights, False, True)], [data], "matmul")


def _quantized(shape: tuple[int, int, int]):
    import nncf

    rng = np.random.default_rng(1)
    dataset = nncf.Dataset([rng.standard_normal(shape[:2]).astype(np.float32) for _ in range(2)])
    return nncf.quantize(_matmul_model(shape), dataset, subset_size=2, fast_bias_correction=True)


def _rate(compiled, shape: tuple[int, int, int], seconds: float) -> float:
    """GOP per CPU second of this process."""
    rows, inner, cols = shape
    request = compiled.create_infer_request()
    data = np.random.default_rng(2).standard_normal((rows, inner)).astype(np.float32)
    request.infer({0: data})
    count, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        request.infer({0: data})
        count += 1
    return 2 * rows * inner * cols * count / max(time.process_time() - cpu, 1e-9) / 1e9


def measure_peaks(threads: int, seconds: float = 2.0, rounds: int = 3, size: int | None = None) -> dict[str, float]:
    """GOP/s per precision for `threads` cores: one core's best rate per CPU second, over shapes and rounds, times threads."""
    import openvino as ov

    logging.getLogger("nncf").setLevel(logging.ERROR)
    core = ov.Core()
    config = {"INFERENCE_NUM_THREADS": 1, "PERFORMANCE_HINT": "LATENCY"}
    bf16 = "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    compiled = {}
    for shape in SHAPES if size is None else ((size, size, size),):
        compiled[("fp32", shape)] = core.compile_model(_matmul_model(shape), "CPU", {**config, "INFERENCE_PRECISION_HINT": "f32"})
        compiled[("int8", shape)] = core.compile_model(_quantized(shape), "CPU", config)
        if bf16:
            compiled[("bf16", shape)] = core.compile_model(_matmul_model(shape), "CPU",
                                                           {**config, "INFERENCE_PRECISION_HINT": "bf16"})
    peaks = {name: 0.0 for name, _ in compiled}
    for _ in range(rounds):
        for (name, shape), network in compiled.items():
            peaks[name] = max(peaks[name], _rate(network, shape, seconds))
    return {name: rate * threads for name, rate in peaks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=2.0, help="Length of each measurement.")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for name, rate in measure_peaks(args.threads, args.seconds, args.rounds).items():
        print(f"{name}: {rate:,.0f} GOP/s on {args.threads} cores ({rate / args.threads:,.0f} per core)")


if __name__ == "__main__":
    main()
