"""Benchmark of the detection worker against the naive per-frame transformers pipeline; writes docs/benchmarks.md.

    .venv/bin/python bench/bench_detection.py            # 4 minutes on 2 idle cores, up to 8 beside other work
    .venv/bin/python bench/bench_detection.py --quick    # a smoke run, results not written

Both sides use full-size ViT-B/16 models (85.8 M parameters, 224x224, 16x16 patches) with random weights:
the arithmetic is the real models', only the answers are meaningless. Measured, in one run on one machine:
(a) the seed notebook's way: transformers pipeline("image-classification") per frame, fp32, batch 1,
    violence then gender on the whole frame;
(b) this worker: capture, motion gate, cross-camera batches of the violence model, the decision, and
    the person/gender census only when an event fires; once with the models in fp32 (b) and once with
    their Linear layers dynamically quantized to int8 (b8), the default on a CPU without native bf16;
then how far int8 moves the violence probabilities from fp32, how many cameras at 2 analysed fps with
continuous motion the int8 worker sustains, and the CPU cost of a camera that sees no motion.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from detection.app import DetectorApp  # noqa: E402
from detection.config import DetectorConfig, InferenceSettings  # noqa: E402
from detection.models.classifiers import Preprocess, ViTClassifier  # noqa: E402
from detection.models.runtime import TorchRuntime, resolve_placement  # noqa: E402
from detection.persons import HogPersonDetector, PeopleCounter  # noqa: E402
from detection.publisher import Publisher  # noqa: E402

SECTION = "## Detection worker"
WIDTH, HEIGHT = 640, 360
NO_EVENTS_THRESHOLD = 0.99
QUIET = 0.15  # a round is quiet when other processes used less than this share of the machine's CPU


# Material ----------------------------------------------------------------------------------------


def vit_b16(labels: tuple[str, ...], seed: int):
    from transformers import ViTConfig, ViTForImageClassification

    torch.manual_seed(seed)  # the same random weights, hence the same scores, in every run
    config = ViTConfig(num_labels=len(labels), id2label=dict(enumerate(labels)),
                       label2id={label: i for i, label in enumerate(labels)})
    return ViTForImageClassification(config).eval()


def moving_frames(count: int, seed: int = 0, people: int = 4) -> list[np.ndarray]:
    """A busy scene: several figures crossing a textured background, so the motion gate passes every frame."""
    rng = np.random.default_rng(seed)
    base = rng.integers(60, 140, (HEIGHT // 8, WIDTH // 8, 3), dtype=np.uint8)
    base = cv2.resize(base, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST)
    frames = []
    for i in range(count):
        frame = base.copy()
        for person in range(people):
            x = int((i * (9 + 4 * person) + 150 * person) % (WIDTH - 60))
            cv2.rectangle(frame, (x, 90 + 20 * person), (x + 50, 330), tuple(int(c) for c in rng.integers(0, 255, 3)), -1)
        frames.append(frame)
    return frames


def mixed_frames(count: int) -> list[np.ndarray]:
    """A corridor that is busy a quarter of the time: bursts of people crossing between quiet spells."""
    busy = moving_frames(count, seed=7)
    still = moving_frames(1, seed=7, people=0)[0]
    return [busy[i] if (i // 20) % 4 == 0 else still for i in range(count)]


def write_video(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (WIDTH, HEIGHT))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


class NullPublisher(Publisher):
    def __init__(self):
        self.events = []

    def send(self, event) -> None:
        self.events.append(event)


# (a) the baseline --------------------------------------------------------------------------------


def baseline_fps(pipes, frames: list[np.ndarray]) -> float:
    from PIL import Image

    violence, gender = pipes
    started = time.perf_counter()
    for frame in frames:
        image = Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        violence(image)
        gender(image)
    return len(frames) / (time.perf_counter() - started)


def make_baseline(violence_model, gender_model):
    from transformers import ViTImageProcessor, pipeline

    processor = ViTImageProcessor(size={"height": 224, "width": 224}, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    return tuple(
        pipeline("image-classification", model=model, image_processor=processor, device="cpu")
        for model in (violence_model, gender_model)
    )


# (b) the worker ----------------------------------------------------------------------------------


def worker_config(cameras: list[dict], batch_size: int, threads: int, spool: Path, precision: str) -> DetectorConfig:
    return DetectorConfig.model_validate({
        "cameras": cameras,
        "inference": {"batch_size": batch_size, "threads": threads, "max_batch_wait_ms": 50, "precision": precision},
        # Random weights score about 0.5-0.85; a real fight raises one event per camera per 120 s cooldown, not one
        # per short round, so events are kept out of the throughput runs and the census is timed on its own.
        "decision": {"threshold": NO_EVENTS_THRESHOLD},
        "publisher": {"spool_dir": str(spool)},
        "status_interval_s": 3600,
    })


def camera(index: int, video: Path, **extra) -> dict:
    return {"id": f"cam{index}", "source": str(video), "device_id": f"CAM-{index:02d}", "device_key": "bench",
            "beacon_id": "bench", "analysis_fps": 2, **extra}


@dataclass(frozen=True)
class Models:
    """The worker's classifiers in one precision."""

    precision: str
    violence: ViTClassifier
    people: PeopleCounter


def worker_models(violence_model, gender_model, precision: str, threads: int) -> Models:
    # int8 quantizes in place, so each precision gets its own copy of the same weights.
    placement = resolve_placement(InferenceSettings(threads=threads, precision=precision))
    violence = ViTClassifier(TorchRuntime(copy.deepcopy(violence_model), placement), ("non-violence", "violence"), Preprocess())
    gender = ViTClassifier(TorchRuntime(copy.deepcopy(gender_model), placement), ("female", "male"), Preprocess())
    return Models(precision, violence, PeopleCounter(HogPersonDetector(), gender))


def run_worker(config: DetectorConfig, violence, people, seconds: float | None = None) -> tuple[DetectorApp, float, float]:
    """Run the real worker; returns it with wall and process CPU seconds. seconds=None runs until the files end."""
    app = DetectorApp(config, violence=violence, people=people, publisher=NullPublisher())
    if seconds is not None:
        threading.Timer(seconds, app.stop.set).start()
    wall, cpu = time.perf_counter(), time.process_time()
    app.run()
    return app, time.perf_counter() - wall, time.process_time() - cpu


def pipeline_fps(videos: list[Path], models: Models, batch_size: int, threads: int, spool: Path,
                 count_skipped: bool = False) -> float:
    """Sampled frames the worker gets through per second; only analysed ones unless count_skipped."""
    config = worker_config([camera(i, v) for i, v in enumerate(videos)], batch_size, threads, spool, models.precision)
    app, wall, _ = run_worker(config, models.violence, models.people)
    done = sum(s.analysed + (s.skipped_static if count_skipped else 0) for s in app.analyzer.stats.values())
    return done / wall


def sustained(count: int, video: Path, models: Models, args, spool: Path) -> dict:
    cameras = [camera(i, video, loop=True, realtime=True) for i in range(count)]
    config = worker_config(cameras, args.batch_size, args.threads, spool, models.precision)
    (app, wall, cpu), others = with_others_share(
        lambda: run_worker(config, models.violence, models.people, args.camera_seconds)
    )
    stats = list(app.analyzer.stats.values())
    sampled = sum(s.frames_sampled for s in (src.stats for src in app.sources.values()))
    return {
        "cameras": count,
        # Frames the worker got through (analysed, or judged static by the gate) per camera per second.
        "fps_per_camera": [round((s.analysed + s.skipped_static) / wall, 2) for s in stats],
        "analysed_share": sum(s.analysed for s in stats) / max(sum(s.analysed + s.skipped_static for s in stats), 1),
        "dropped_share": sum(s.dropped for s in stats) / max(sampled, 1),
        "cpu_cores": cpu / wall,
        "others": others,
    }


def static_cost(video: Path, models: Models, args, spool: Path) -> dict:
    config = worker_config([camera(0, video, loop=True, realtime=True)], args.batch_size, args.threads, spool,
                           models.precision)
    app, wall, cpu = run_worker(config, models.violence, models.people, args.static_seconds)
    stats = app.analyzer.stats["cam0"]
    return {"cpu_share": cpu / wall, "analysed": stats.analysed, "skipped": stats.skipped_static, "seconds": wall}


# Reporting ---------------------------------------------------------------------------------------


def machine() -> dict:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = re.search(r"Model name:\s*(.+)", lscpu).group(1).strip()
    except (OSError, AttributeError):
        model = platform.processor() or "unknown"
    present = set(Path("/proc/cpuinfo").read_text().split())
    flags = present & {"avx2", "avx512f", "avx_vnni", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"}
    return {"cpu": model, "cores": os.cpu_count(), "torch": torch.__version__, "flags": ", ".join(sorted(flags)),
            "load": os.getloadavg()[0]}


def _rounds(values: list[float], others: list[float]) -> str:
    return ", ".join(f"{x:.2f} ({100 * share:.0f}%)" for x, share in zip(values, others))


def _best(values: list[float], others: list[float]) -> tuple[float, bool]:
    """The best quiet round when there is one (and whether there was), else the best round."""
    quiet = [x for x, share in zip(values, others) if share < QUIET]
    return (max(quiet), True) if quiet else (max(values), False)


def _verdict(ratio8: float, quiet: bool) -> str:
    met = "meets" if ratio8 >= 4 else "falls short of"
    if quiet:
        return f"Measured on quiet rounds, the int8 worker {met} the 4x aim with motion in every frame."
    # Beside a busy neighbour the batch-1 baseline loses more than the worker: its two threads meet after every
    # small operation and stall whenever the neighbour holds a core.
    return (
        f"No round of (a) or (b8) was quiet, so this is a comparison under load; by it the int8 worker {met} the "
        "4x aim, but load flatters the worker: the batch-1 baseline's two threads meet after every small "
        "operation and stall whenever other work holds a core, so it slows down more than the batched worker "
        "does. Only quiet rounds settle the 4x question."
    )


def render(results: dict) -> str:
    m, load, others = results["machine"], results["round_loads"], results["others"]
    a, b, b8 = results["baseline"], results["pipeline"], results["pipeline_int8"]
    # Other work on a shared machine only ever slows a round down, so a side's best round, and best of all its
    # best quiet round, is the closest to its undisturbed speed; the medians are shown too.
    (best_a, quiet_a), (best_b, quiet_b), (best_b8, quiet_b8) = (
        _best(results[name], others[name]) for name in ("baseline", "pipeline", "pipeline_int8")
    )
    ratio, ratio8 = best_b / best_a, best_b8 / best_a
    median_ratio, median_ratio8 = (statistics.median(x) / statistics.median(a) for x in (b, b8))
    basis = "best quiet rounds" if quiet_a and quiet_b8 else "best rounds"
    lines = [
        SECTION, "",
        f"Measured by `bench/bench_detection.py` on {results['date']}: {m['cpu']}, {m['cores']} cores "
        f"(CPU flags: {m['flags'] or 'none of avx2/avx512/bf16'}), torch {m['torch']}, "
        f"{results['threads']} PyTorch threads; 1-minute load average {m['load']:.1f} at the start, "
        f"{min(load):.1f}-{max(load):.1f} during the rounds and {results['load_end']:.1f} at the end. The machine is "
        "shared with other work, so the three sides alternate in rounds (in a rotating order), each round records "
        "the share of the machine's CPU that other processes used meanwhile (in brackets), and a round where they "
        f"used less than {100 * QUIET:.0f}% counts as quiet. "
        "Full-size ViT-B/16 models with random weights (same arithmetic as the real ones), "
        f"{WIDTH}x{HEIGHT} frames with continuous motion. A round is {results['baseline_frames']} frames through (a), "
        f"and for (b) and (b8) {results['cameras']} cameras of {results['frames'] + 1} sampled frames each; every "
        "worker round starts and stops the whole worker (capture threads, analyser, publisher), and that fixed "
        "cost (about 0.4 s) is included in its rate. The worker runs with its decision threshold at "
        f"{NO_EVENTS_THRESHOLD} so that random weights raise no events: a real fight raises one per camera per "
        "120 s cooldown, not one per round, and the census an event costs is timed separately below.",
        "",
        "| | frames/s, best quiet round (else best round) | median | all rounds (others' CPU share) | vs (a) |",
        "|---|---|---|---|---|",
        f"| (a) baseline: `pipeline(\"image-classification\")` per frame, fp32, batch 1, violence then gender "
        f"| {best_a:.2f}{'' if quiet_a else ' (none quiet)'} | {statistics.median(a):.2f} "
        f"| {_rounds(a, others['baseline'])} | 1x |",
        f"| (b) this worker at fp32: capture + motion gate + batched violence model (batch {results['batch_size']}), "
        f"census only on events; motion in every frame | {best_b:.2f}{'' if quiet_b else ' (none quiet)'} "
        f"| {statistics.median(b):.2f} | {_rounds(b, others['pipeline'])} | {ratio:.2f}x |",
        f"| (b8) the same worker at int8 (`precision: auto` on this CPU) "
        f"| {best_b8:.2f}{'' if quiet_b8 else ' (none quiet)'} | {statistics.median(b8):.2f} "
        f"| {_rounds(b8, others['pipeline_int8'])} | **{ratio8:.2f}x** |",
        f"| (b') the int8 worker on a clip with motion a quarter of the time (sampled frames per second) "
        f"| {results['mixed']:.2f} | | best of two runs | {results['mixed'] / best_a:.2f}x |",
        "",
        f"**(b8) / (a) = {ratio8:.2f}x** on {basis} ({median_ratio8:.2f}x on medians); at fp32 "
        f"(b) / (a) = {ratio:.2f}x ({median_ratio:.2f}x on medians). int8 alone makes the worker "
        f"{best_b8 / best_b:.2f}x faster than at fp32. {_verdict(ratio8, quiet_a and quiet_b8)}",
        "",
        f"- Default precision: `precision: auto` chooses int8 on this machine because the CPU has no native bf16 "
        "(bf16 autocast is chosen on CUDA and on CPUs with avx512_bf16/AMX; fp32 and bf16 remain selectable).",
        f"- Accuracy: over {results['accuracy_frames']} benchmark frames the int8 worker's violence probability "
        f"differs from the fp32 worker's by at most **{results['max_delta']:.4f}** "
        f"(mean {results['mean_delta']:.4f}; fp32 probabilities {results['score_range'][0]:.2f}-"
        f"{results['score_range'][1]:.2f}; the default decision threshold is 0.75). Trained weights often hold "
        "outliers that per-tensor int8 rounds more coarsely than random ones, so compare `precision: fp32` and "
        "`int8` on recorded footage with the real model before relying on this figure.",
        f"- One event's census (HOG person detector and gender model on up to 3 evidence frames) costs "
        f"{results['census_s']['int8']:.2f} s at int8 ({results['census_s']['fp32']:.2f} s at fp32), once per event, "
        f"not per frame (this and the next line: other processes used {100 * results['model_others']:.0f}% of the "
        "CPU meanwhile).",
        f"- The violence model alone, frames/s at batch 1 / batch 4: fp32 {results['model_fps']['fp32'][0]:.2f} / "
        f"{results['model_fps']['fp32'][1]:.2f}, int8 {results['model_fps']['int8'][0]:.2f} / "
        f"{results['model_fps']['int8'][1]:.2f}; bf16 autocast {results['bf16_fps']:.2f} at batch 4 (emulated "
        "without native bf16, hence never chosen automatically here).",
    ]
    for run in results["sustained"]:
        fps = ", ".join(map(str, run["fps_per_camera"]))
        lines.append(
            f"- {run['cameras']} camera{'s' if run['cameras'] > 1 else ''} at 2 analysed fps, continuous motion, int8, "
            f"paced in real time for {results['camera_seconds']:.0f} s: frames/s handled per camera {fps} "
            f"({100 * run['analysed_share']:.0f}% of them through the violence model), "
            f"{100 * run['dropped_share']:.0f}% of sampled frames dropped, {run['cpu_cores']:.2f} cores busy, "
            f"other processes {100 * run['others']:.0f}% of the CPU (the looped clip repeats frames the background "
            "model has already learned, so a few count as static)."
        )
    kept = [r["cameras"] for r in results["sustained"] if r["dropped_share"] < 0.05
            and min(r["fps_per_camera"]) >= 1.8]
    lines.append(f"- **Cameras sustained at 2 fps with continuous motion, int8: {max(kept) if kept else 0}.**")
    s = results["static"]
    lines += [
        f"- A static camera ({WIDTH}x{HEIGHT} MPEG-4 at 25 fps, decoded in real time, 2 fps through the motion "
        f"gate) costs **{100 * s['cpu_share']:.1f}% of one core** ({s['analysed']} frames reached the model, "
        f"{s['skipped']} were skipped by the motion gate in {s['seconds']:.0f} s); nearly all of it is video decoding.",
        "",
        "Where the speed-up comes from on this machine: without native bf16 and with two cores, a ViT-B/16 "
        "forward pass (about 35 GFLOP) is compute-bound already at batch 1, so batching gains little. Part of "
        "the gain is work not done: one model per analysed frame instead of two, preprocessing of a whole batch "
        "in OpenCV/NumPy instead of PIL and the processor per image, no model at all for frames without motion, "
        "and the person detector and gender model only when an event fires. The rest is int8: dynamically "
        "quantized Linear layers (nearly all of a ViT's arithmetic) run as int8 matrix products (FBGEMM) instead "
        "of fp32 ones, at the cost of the small probability change above. On a GPU or a CPU "
        "with native bf16 the batched bf16 path is used instead.",
        "",
    ]
    if ratio8 < 4:
        no_vnni = "vnni" not in m["flags"]
        lines[-1:-1] = [
            "",
            f"What keeps (b8) short of 4x here: int8 makes the worker only {best_b8 / best_b:.2f}x faster than fp32. "
            f"{'This CPU has no VNNI (int8 dot-product) instructions, so ' if no_vnni else ''}FBGEMM's int8 "
            "products gain less over fp32 than on newer CPUs; every Linear call also measures and quantizes its "
            "input first; attention products, LayerNorms and GELUs stay fp32; and the worker decodes the video "
            "(five frames per analysed frame: a 10 fps clip sampled at 2 fps) and runs the motion gate on the same "
            "two cores, while (a) is handed decoded frames.",
        ]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def _busy_cpu_seconds() -> float:
    """CPU seconds all processes have spent on the machine since boot (the aggregate line of /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def with_others_share(action):
    """Run action; returns its result and the share of the machine's CPU that other processes used meanwhile."""
    times, busy, started = os.times(), _busy_cpu_seconds(), time.perf_counter()
    result = action()
    ours = sum(os.times()[:2]) - sum(times[:2])
    others = _busy_cpu_seconds() - busy - ours
    return result, max(0.0, others / ((time.perf_counter() - started) * (os.cpu_count() or 1)))


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def violence_only_fps(model, frames: list[np.ndarray], batch: int, autocast: bool = False) -> float:
    pixels = torch.from_numpy(Preprocess()(frames))
    context = torch.autocast("cpu", dtype=torch.bfloat16) if autocast else torch.autocast("cpu", enabled=False)
    with torch.inference_mode(), context:
        model(pixel_values=pixels[:1])
        started = time.perf_counter()
        for start in range(0, len(frames), batch):
            model(pixel_values=pixels[start:start + batch])
    return len(frames) / (time.perf_counter() - started)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=12, help="Frames per camera per pipeline round.")
    parser.add_argument("--baseline-frames", type=int, default=5, help="Frames per baseline round.")
    parser.add_argument("--rounds", type=int, default=6, help="Alternating baseline/fp32/int8 rounds.")
    parser.add_argument("--pipeline-cameras", type=int, default=2, help="Cameras sharing the worker in (b).")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--camera-seconds", type=float, default=20.0, help="Length of each sustained-cameras run.")
    parser.add_argument("--max-cameras", type=int, default=4, help="Most cameras tried in the sustained runs.")
    parser.add_argument("--static-seconds", type=float, default=20.0)
    parser.add_argument("--accuracy-frames", type=int, default=16, help="Frames compared between fp32 and int8.")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--quick", action="store_true", help="Tiny run to check the script; writes nothing.")
    args = parser.parse_args()
    if args.quick:
        args.frames, args.baseline_frames, args.rounds, args.accuracy_frames = 2, 1, 1, 2
        args.camera_seconds, args.static_seconds, args.max_cameras = 4.0, 3.0, 1
    return args


def alternating_rounds(args, baseline, fp32: Models, int8: Models, clips: list[Path], spool: Path) -> dict:
    frames = moving_frames(args.baseline_frames, seed=3)
    sides = {
        "baseline": lambda: baseline_fps(baseline, frames),
        "pipeline": lambda: pipeline_fps(clips, fp32, args.batch_size, args.threads, spool),
        "pipeline_int8": lambda: pipeline_fps(clips, int8, args.batch_size, args.threads, spool),
    }
    results: dict = {name: [] for name in sides}
    results.update(round_loads=[], others={name: [] for name in sides})
    order = list(sides)
    for round_ in range(args.rounds):
        # Rotating the order keeps any side from always following the same one (warm caches, a neighbour's burst).
        for name in order[round_ % 3:] + order[:round_ % 3]:
            fps, others = with_others_share(sides[name])
            results[name].append(fps)
            results["others"][name].append(others)
        results["round_loads"].append(os.getloadavg()[0])
        print(f"round {round_ + 1}: " + ", ".join(
            f"{name} {results[name][-1]:.2f} fps (others {100 * results['others'][name][-1]:.0f}%)" for name in sides
        ) + f", load {results['round_loads'][-1]:.1f}", flush=True)
    return results


def accuracy(fp32: Models, int8: Models, clips: list[Path], count: int) -> dict:
    """How far int8 moves the violence probability, on the frames the worker analyses in (b): every 5th clip frame."""
    per_clip = -(-count // len(clips))
    frames = [frame for i in range(len(clips)) for frame in moving_frames(per_clip * 5, seed=i)[::5]][:count]
    reference = fp32.violence.scores(frames, "violence")
    delta = np.abs(reference - int8.violence.scores(frames, "violence"))
    return {"accuracy_frames": len(frames), "max_delta": float(delta.max()), "mean_delta": float(delta.mean()),
            "score_range": (float(reference.min()), float(reference.max()))}


def model_speeds(fp32: Models, int8: Models, people_frames, sample) -> dict:
    results, others = with_others_share(lambda: _model_speeds(fp32, int8, people_frames, sample))
    return {**results, "model_others": others}


def _model_speeds(fp32: Models, int8: Models, people_frames, sample) -> dict:
    # Short measurements are repeated and the best kept, for the same reason as the alternating rounds.
    results = {"census_s": {}, "model_fps": {}}
    for models in (fp32, int8):
        model = models.violence.runtime.model
        results["census_s"][models.precision] = min(timed(lambda: models.people.count(people_frames)) for _ in range(5))
        results["model_fps"][models.precision] = tuple(
            max(violence_only_fps(model, sample, batch) for _ in range(2)) for batch in (1, 4)
        )
    results["bf16_fps"] = violence_only_fps(fp32.violence.runtime.model, sample, 4, autocast=True)
    return results


def sustained_runs(args, busy: Path, int8: Models, spool: Path) -> list[dict]:
    runs = []
    for count in range(1, args.max_cameras + 1):
        # A second try when frames were dropped: a burst of other work on the machine can cause that too.
        run = sustained(count, busy, int8, args, spool)
        if run["dropped_share"] >= 0.05:
            retry = sustained(count, busy, int8, args, spool)
            run = min(run, retry, key=lambda r: r["dropped_share"])
        runs.append(run)
        print(f"sustained: {run}", flush=True)
        if run["dropped_share"] >= 0.05:
            break
    return runs


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    results: dict = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "threads": torch.get_num_threads(),
                     "batch_size": args.batch_size, "camera_seconds": args.camera_seconds,
                     "baseline_frames": args.baseline_frames, "frames": args.frames, "cameras": args.pipeline_cameras}
    print(f"machine: {results['machine']}", flush=True)

    violence_model = vit_b16(("non-violence", "violence"), seed=0)
    gender_model = vit_b16(("female", "male"), seed=1)
    fp32 = worker_models(violence_model, gender_model, "fp32", args.threads)
    int8 = worker_models(violence_model, gender_model, "int8", args.threads)
    baseline = make_baseline(violence_model, gender_model)

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        spool = scratch / "spool"
        clips = [write_video(scratch / f"busy{i}.mp4", moving_frames(args.frames * 5 + 5, seed=i), 10)
                 for i in range(args.pipeline_cameras)]
        busy = write_video(scratch / "busy-live.mp4", moving_frames(250, seed=9), 25)
        still = write_video(scratch / "static.mp4", [moving_frames(1)[0]] * 250, 25)

        baseline_fps(baseline, moving_frames(1))  # first-call set-up is not steady state
        for models in (fp32, int8):
            models.violence.predict(moving_frames(2))
        results.update(alternating_rounds(args, baseline, fp32, int8, clips, spool))

        results.update(accuracy(fp32, int8, clips, args.accuracy_frames))
        print(f"int8 vs fp32 violence probability: max |delta| {results['max_delta']:.4f} "
              f"over {results['accuracy_frames']} frames", flush=True)

        mixed = write_video(scratch / "mixed.mp4", mixed_frames(160), 10)
        results["mixed"] = max(
            pipeline_fps([mixed], int8, args.batch_size, args.threads, spool, count_skipped=True) for _ in range(2)
        )
        print(f"mixed clip, int8: {results['mixed']:.2f} fps", flush=True)

        results.update(model_speeds(fp32, int8, moving_frames(3, seed=5), moving_frames(4, seed=6)))
        print(f"census {results['census_s']}; violence model fps (batch 1, 4) {results['model_fps']}, "
              f"bf16 {results['bf16_fps']:.2f}", flush=True)

        results["sustained"] = sustained_runs(args, busy, int8, spool)
        results["static"] = static_cost(still, int8, args, spool)
        print(f"static: {results['static']}", flush=True)

    results["load_end"] = os.getloadavg()[0]
    section = render(results)
    print("\n" + section)
    if not args.quick:
        write_section(args.out, section)
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
