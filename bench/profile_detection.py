"""Where the worker's time goes with many cameras: time inside the model runtime and in preprocessing, batch sizes.

    .venv/bin/python bench/profile_detection.py --work-dir /tmp/benchwork --cameras 8 --seconds 10

Uses the models bench_detection.py left in --work-dir (run it first with the same --work-dir), the real worker,
and cameras replaying a clip with motion in every frame in real time at 2 analysed fps.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_detection as bench  # noqa: E402


class Timed:
    """Wraps a callable and adds up the seconds spent in it."""

    def __init__(self, inner, sizes=None):
        self.inner, self.seconds, self.sizes = inner, 0.0, sizes

    def __call__(self, batch):
        started = time.perf_counter()
        try:
            return self.inner(batch)
        finally:
            self.seconds += time.perf_counter() - started
            if self.sizes is not None:
                self.sizes.append(len(batch))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runtime", default="openvino", choices=["openvino", "onnxruntime"])
    parser.add_argument("--precision", default="int8", choices=["fp32", "bf16", "int8"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    args.camera_seconds = args.seconds
    scratch = args.work_dir
    builder = bench.ModelBuilder(bench.settings(args, scratch), bench.NO_EVENTS_THRESHOLD)
    violence = builder.converted_classifier(builder.open("violence", str(scratch / "models" / "violence")),
                                            args.runtime, args.precision)
    gender = builder.converted_classifier(builder.open("gender", str(scratch / "models" / "gender")), args.runtime,
                                          "fp32")
    variant = bench.Variant(args.runtime, args.precision, violence, bench.PeopleCounter(bench.HogPersonDetector(), gender))
    sizes: list[int] = []
    infer = violence.runtime.infer = Timed(violence.runtime.infer, sizes)
    preprocess = violence.preprocess = Timed(violence.preprocess)
    clip = bench.write_video(scratch / "profile-live.mp4", bench.moving_frames(250, seed=9), 25)
    started = time.perf_counter()
    run = bench.sustained(args.cameras, clip, variant, args, scratch / "spool-profile")
    wall = time.perf_counter() - started
    print(f"{args.cameras} cameras, {args.runtime} {args.precision}: frames/s per camera {run['fps_per_camera']}, "
          f"{100 * run['dropped_share']:.0f}% dropped, {run['cpu_cores']:.2f} cores busy, other processes "
          f"{100 * run['others']:.0f}% of the CPU")
    print(f"model runtime {infer.seconds:.2f} s ({100 * infer.seconds / wall:.0f}% of {wall:.1f} s), "
          f"{sum(sizes) / max(infer.seconds, 1e-9):.1f} img/s inside it; preprocessing {preprocess.seconds:.2f} s "
          f"({100 * preprocess.seconds / wall:.1f}%); batches {len(sizes)}, sizes {collections.Counter(sizes).most_common(4)}")


if __name__ == "__main__":
    main()
