"""This CPU's measured arithmetic peak for fp32, bf16 and int8 matrix products (OpenVINO's oneDNN kernels).

    .venv/bin/python bench/peak.py --threads 2

A large square matrix product is about the best case for every kernel library: it is compute-bound and
tiles perfectly, so its rate is what a model's arithmetic could reach at most on this machine. fp32 and bf16
are the same product compiled with OpenVINO's precision hint; int8 is that product quantized by NNCF (both
operands int8), which OpenVINO runs on VNNI/AMX int8 kernels where the CPU has them. Rates are in GOP/s,
counting a multiply and an add as two operations, as model FLOP counts do.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np


def _matmul_model(size: int):
    import openvino as ov
    from openvino import opset13

    rng = np.random.default_rng(0)
    data = opset13.parameter([size, size], np.float32, name="a")
    weights = opset13.constant(rng.standard_normal((size, size)).astype(np.float32) / size ** 0.5)
    return ov.Model([opset13.matmul(data, weights, False, True)], [data], "matmul")


def _quantized(model, size: int):
    import nncf

    rng = np.random.default_rng(1)
    dataset = nncf.Dataset([rng.standard_normal((size, size)).astype(np.float32) for _ in range(2)])
    return nncf.quantize(model, dataset, subset_size=2, fast_bias_correction=True)


def _rate(compiled, size: int, seconds: float) -> float:
    request = compiled.create_infer_request()
    data = np.random.default_rng(2).standard_normal((size, size)).astype(np.float32)
    request.infer({0: data})
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        request.infer({0: data})
        count += 1
    return 2 * size ** 3 * count / (time.perf_counter() - started) / 1e9


def measure_peaks(threads: int, seconds: float = 2.0, rounds: int = 3, size: int = 2048) -> dict[str, float]:
    """GOP/s per precision: the best of alternating rounds (other work on the machine only ever slows one down)."""
    import openvino as ov

    logging.getLogger("nncf").setLevel(logging.ERROR)
    core = ov.Core()
    model = _matmul_model(size)
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    compiled = {
        "fp32": core.compile_model(model, "CPU", {**config, "INFERENCE_PRECISION_HINT": "f32"}),
        "int8": core.compile_model(_quantized(_matmul_model(size), size), "CPU", config),
    }
    if "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        compiled["bf16"] = core.compile_model(model, "CPU", {**config, "INFERENCE_PRECISION_HINT": "bf16"})
    peaks = {name: 0.0 for name in compiled}
    for _ in range(rounds):
        for name, network in compiled.items():
            peaks[name] = max(peaks[name], _rate(network, size, seconds))
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=2.0, help="Length of each measurement.")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for name, rate in measure_peaks(args.threads, args.seconds, args.rounds).items():
        print(f"{name}: {rate:,.0f} GOP/s on {args.threads} threads")


if __name__ == "__main__":
    main()
