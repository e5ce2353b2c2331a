"""Where the worker's CPU goes per analysed frame: each stage's cost alone, then the live worker at many cameras.

    .venv/bin/python bench/profile_detection.py --work-dir /tmp/benchwork --cameras 8 16 --seconds 15

Uses the models bench_detection.py left in --work-dir (run it first with the same --work-dir).

(1) Stage costs, one stage at a time on one thread, in CPU milliseconds (process time, so other engineers' work on a
    shared machine inflates them far less than wall time): decoding a source frame (grab), converting a sampled one
    (retrieve), the motion gate, preprocessing (per frame, in batches), the violence model per image at several batch
    sizes, and the census an event costs (person detector on the evidence frames, gender model on the crops). From
    them: the CPU one analysed frame needs, and how many cameras at 2 fps the machine's cores could carry.
(2) The real worker with N cameras replaying a clip with motion in every frame in real time at 2 analysed fps: CPU
    per analysed frame by thread (camera threads: decode, mask, motion; the analyser: preprocessing, batching,
    decisions, Python; the runtime's own threads), time inside the model, batch sizes, frames dropped, and the load.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import threading
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_detection as bench  # noqa: E402

from detection.config import MotionSettings  # noqa: E402
from detection.motion import BackgroundSubtractionGate  # noqa: E402

SOURCE_FPS = 25


class Timed:
    """Wraps a callable and adds up the wall seconds spent in it (and the batch sizes it was given)."""

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


def cpu_ms(action, repeat: int) -> float:
    """Process CPU milliseconds per call, after one warm-up call."""
    action()
    started = time.process_time()
    for _ in range(repeat):
        action()
    return (time.process_time() - started) / repeat * 1000


def classifiers(args, threads: int, streams: int | None):
    scratch = args.work_dir
    settings = bench.settings(args, scratch).model_copy(update={"threads": threads, "streams": streams})
    builder = bench.ModelBuilder(settings, bench.NO_EVENTS_THRESHOLD)
    violence = builder.converted_classifier(builder.open("violence", str(scratch / "models" / "violence")),
                                            args.runtime, args.precision)
    gender = builder.converted_classifier(builder.open("gender", str(scratch / "models" / "gender")), args.runtime,
                                          builder.unquantized(args.runtime) if args.precision == "int8" else args.precision)
    return violence, gender


def stage_costs(args, clip: Path) -> dict:
    """Each stage alone on one thread (the model with one thread, one stream), in CPU ms."""
    cv2.setNumThreads(1)
    capture = cv2.VideoCapture(str(clip))

    def grab():
        if not capture.grab():
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            capture.grab()

    costs = {"decode (grab) per source frame": cpu_ms(grab, 200),
             "colour conversion (retrieve) per sampled frame": cpu_ms(capture.retrieve, 100)}
    capture.release()
    frames = bench.moving_frames(32, seed=9)
    gate, counter = BackgroundSubtractionGate(MotionSettings()), iter(range(10 ** 9))
    costs["motion gate"] = cpu_ms(lambda: gate.apply(frames[next(counter) % len(frames)]), 100)
    violence, gender = classifiers(args, threads=1, streams=1)
    batch = args.batch_size
    costs["preprocessing per frame"] = cpu_ms(lambda: violence.preprocess(frames[:batch]), 10) / batch
    pixels = violence.preprocess(frames[:16])
    model = {size: cpu_ms(lambda s=size: violence.runtime.infer(pixels[:s]), max(2, 16 // size)) / size
             for size in sorted({1, batch, 16})}
    detector = bench.HogPersonDetector()
    boxes = detector.detect(frames[0])
    crops = [frames[0][b.y:b.y + b.h, b.x:b.x + b.w] for b in boxes[:8]] or [frames[0][:200, :100]] * 4
    census = 3 * cpu_ms(lambda: detector.detect(frames[0]), 3) + cpu_ms(lambda: gender.predict(crops), 2)
    cv2.setNumThreads(-1)
    return {"stages": costs, "model": model, "census_per_event": census, "crops": len(crops),
            "violence": violence.runtime.describe()}


def print_stage_costs(result: dict, args) -> None:
    stages, model = result["stages"], result["model"]
    per_analysed = SOURCE_FPS / 2
    decode = stages["decode (grab) per source frame"] * per_analysed
    print(f"\n(1) Stage costs alone, one thread, CPU ms ({result['violence']}; load {os.getloadavg()[0]:.1f}):")
    for name, value in stages.items():
        print(f"    {name:48s} {value:8.2f}")
    for size, value in model.items():
        print(f"    {'violence model per image at batch ' + str(size):48s} {value:8.2f}")
    print(f"    {'census per event (3 evidence frames, ' + str(result['crops']) + ' crops)':48s} "
          f"{result['census_per_event']:8.2f}")
    model_ms = model[args.batch_size]
    other = (decode + stages["colour conversion (retrieve) per sampled frame"] + stages["motion gate"]
             + stages["preprocessing per frame"])
    total = model_ms + other
    cores = os.cpu_count() or 1
    print(f"    per analysed frame of a {SOURCE_FPS} fps camera at 2 fps: decode {decode:.1f} "
          f"({SOURCE_FPS / 2:.1f} source frames), everything but the model {other:.1f}, model {model_ms:.1f}: "
          f"{total:.1f} ms, the model {100 * model_ms / total:.0f}%")
    print(f"    so {cores} cores could analyse at most {cores * 1000 / total:.1f} frames/s = "
          f"{cores * 1000 / total / 2:.1f} cameras at 2 fps; 16 cameras need {32 * total / 1000:.2f} cores "
          f"({32 * model_ms / 1000:.2f} of them for the model)")


def thread_cpu() -> dict[int, float]:
    """CPU seconds of every thread of this process, by kernel thread id."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / ticks
    return out


def live(args, clip: Path, count: int) -> dict:
    violence, gender = classifiers(args, threads=args.threads, streams=args.streams)
    variant = bench.Variant(args.runtime, args.precision, violence, bench.PeopleCounter(bench.HogPersonDetector(), gender))
    sizes: list[int] = []
    infer = violence.runtime.infer = Timed(violence.runtime.infer, sizes)
    preprocess = violence.preprocess = Timed(violence.preprocess)
    names: dict[int, str] = {}
    seen: dict[int, float] = {}
    watching = threading.Event()

    def watch():  # Python threads by kernel id, to label /proc's per-thread CPU; threads that end keep their last figure
        while not watching.wait(0.2):
            names.update({t.native_id: t.name for t in threading.enumerate() if t.native_id})
            seen.update(thread_cpu())

    before, load = thread_cpu(), os.getloadavg()[0]
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.perf_counter()
    run = bench.sustained(count, clip, variant, args, args.work_dir / "spool-profile")
    wall = time.perf_counter() - started
    watching.set()
    watcher.join()
    seen.update(thread_cpu())
    groups: collections.Counter[str] = collections.Counter()
    for tid, seconds in seen.items():
        if tid == watcher.native_id:
            continue
        name = names.get(tid, "")
        group = ("camera threads (decode, mask, motion)" if name.startswith("camera-") else
                 "analyser (preprocessing, batching, decisions)" if name == "analyser" else
                 "main, publisher, heartbeats, status" if name else "runtime's own threads (model)")
        groups[group] += seconds - before.get(tid, 0.0)
    analysed = max(1, run["analysed"])
    return {"cameras": count, "run": run, "wall": wall, "groups": groups, "analysed": analysed,
            "infer_s": infer.seconds, "preprocess_s": preprocess.seconds, "sizes": sizes, "load": (load, os.getloadavg()[0]),
            "violence": violence.runtime.describe()}


def print_live(result: dict) -> None:
    run, wall, analysed = result["run"], result["wall"], result["analysed"]
    sizes = result["sizes"]
    print(f"\n(2) {result['cameras']} cameras, {result['violence']}, {wall:.1f} s (load {result['load'][0]:.1f} -> "
          f"{result['load'][1]:.1f}; other processes {100 * run['others']:.0f}% of the CPU): frames/s per camera "
          f"{run['fps_per_camera']}, {100 * run['dropped_share']:.0f}% of sampled frames dropped, "
          f"{run['cpu_cores']:.2f} cores busy; {analysed} frames analysed")
    total = sum(result["groups"].values())
    for group, seconds in result["groups"].most_common():
        print(f"    {group:48s} {1000 * seconds / analysed:8.1f} CPU ms per analysed frame ({100 * seconds / total:.0f}%)")
    print(f"    {'all threads':48s} {1000 * total / analysed:8.1f} CPU ms per analysed frame")
    print(f"    analyser inside the model runtime {100 * result['infer_s'] / wall:.0f}% of the wall time "
          f"({sum(sizes) / max(result['infer_s'], 1e-9):.1f} img/s inside it), in preprocessing "
          f"{100 * result['preprocess_s'] / wall:.1f}%; {len(sizes)} batches, sizes "
          f"{collections.Counter(sizes).most_common(4)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--cameras", type=int, nargs="*", default=[8, 16])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--runtime", default="openvino", choices=["openvino", "onnxruntime"])
    parser.add_argument("--precision", default="int8", choices=["fp32", "bf16", "int8"])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--streams", type=int, default=None, help="OpenVINO streams (1: the worker before streams).")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--no-stages", action="store_true", help="Skip (1).")
    args = parser.parse_args()
    args.camera_seconds = args.seconds
    clip = args.work_dir / "profile-live.mp4"
    if not clip.exists():
        bench.write_video(clip, bench.moving_frames(250, seed=9), SOURCE_FPS)
    print(f"machine: {bench.machine()}")
    if not args.no_stages:
        print_stage_costs(stage_costs(args, clip), args)
    for count in args.cameras:
        print_live(live(args, clip, count))


if __name__ == "__main__":
    main()
