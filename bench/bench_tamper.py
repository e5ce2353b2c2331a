"""Per-frame cost of the camera health hooks (tamper watch + health monitor) against the motion gate.

Both run on every sampled frame of every camera, in its capture thread. Rounds alternate between the two,
so load from other processes falls on both alike; the result is a ratio (hooks / motion gate) plus the
absolute milliseconds per frame, at 640x360 and 1920x1080.

    python bench/bench_tamper.py [--rounds 6] [--frames 200]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detection.capture import Frame  # noqa: E402
from detection.config import DetectorConfig, MotionSettings  # noqa: E402
from detection.health import HealthMonitor  # noqa: E402
from detection.motion import make_motion_gate  # noqa: E402
from detection.tamper import TamperWatch  # noqa: E402


def frames(width: int, height: int, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (height // 8, width // 8, 3)).astype(np.uint8).repeat(8, 0).repeat(8, 1)
    return [np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8) for _ in range(count)]


def hooks_round(images) -> float:
    config = DetectorConfig.model_validate({"cameras": [
        {"id": "c", "source": 0, "device_id": "d", "device_key": "k", "beacon_id": "b"}]})
    monitor = HealthMonitor(config)
    watch = TamperWatch({"c": config.cameras[0]}, config.tamper, lambda event: None)
    monitor.watchers.append(watch.observe)
    started = time.perf_counter()
    for i, image in enumerate(images):
        monitor._on_frame(Frame("c", image, i * 0.5, 1_767_225_600.0 + i * 0.5))
    return (time.perf_counter() - started) * 1000 / len(images)


def gate_round(images) -> float:
    gate = make_motion_gate(MotionSettings())
    started = time.perf_counter()
    for image in images:
        gate.apply(image, None)
    return (time.perf_counter() - started) * 1000 / len(images)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    for width, height in ((640, 360), (1920, 1080)):
        images = frames(width, height, args.frames)
        hooks, gate = [], []
        for round_number in range(args.rounds):
            order = (hooks_round, gate_round) if round_number % 2 == 0 else (gate_round, hooks_round)
            for run in order:
                (hooks if run is hooks_round else gate).append(run(images))
        ratio = statistics.median(hooks) / statistics.median(gate)
        print(f"{width}x{height}: health+tamper hooks {statistics.median(hooks):.3f} ms/frame (best {min(hooks):.3f}), "
              f"motion gate {statistics.median(gate):.3f} ms/frame (best {min(gate):.3f}); ratio {ratio:.2f}x")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
