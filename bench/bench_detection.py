"""Benchmark of the detection worker on every runtime and precision against the naive per-frame transformers
pipeline; writes the detection section of docs/benchmarks.md.

    .venv/bin/python bench/bench_detection.py            # about 10 minutes on 2 cores
    .venv/bin/python bench/bench_detection.py --quick    # a smoke run, results not written

Both sides use full-size ViT-B/16 models (85.8 M parameters, 224x224, 16x16 patches) with random weights:
the arithmetic is the real models', only the answers are meaningless. Measured in one run on one machine,
in alternating rounds (rotating order, best round kept, each round noting how much CPU other processes used):
(a) the seed notebook's way: transformers pipeline("image-classification") per frame, fp32, batch 1,
    violence then gender on the whole frame;
(b) this worker (capture, motion gate, cross-camera batches, decision; census only on events) with the
    violence model on each runtime and precision this machine can run: PyTorch fp32/bf16/int8-dynamic,
    OpenVINO fp32/bf16/int8, ONNX Runtime fp32/int8. The converted and int8 models are made by the worker's
    own code (detection/models/build.py), int8 calibrated by NNCF on frames of the benchmark's cameras;
(c) the violence model alone on each of them (batch 8), as a share of this machine's measured peak for its
    arithmetic (bench/peak.py);
then what `runtime: auto` picks here, how many cameras at 2 analysed fps with motion in every frame that
choice sustains, and the CPU cost of a camera that sees no motion.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

from peak import measure_peaks  # noqa: E402

from detection.app import DetectorApp  # noqa: E402
from detection.config import DetectorConfig, InferenceSettings  # noqa: E402
from detection.models.build import ModelBuilder, installed  # noqa: E402
from detection.models.classifiers import ViTClassifier  # noqa: E402
from detection.models.runtime import cpu_native_bf16  # noqa: E402
from detection.persons import HogPersonDetector, PeopleCounter  # noqa: E402
from detection.publisher import Publisher  # noqa: E402

SECTION = "## Detection worker"
WIDTH, HEIGHT = 640, 360
NO_EVENTS_THRESHOLD = 0.99
QUIET = 0.15  # a round is quiet when other processes used less than this share of the machine's CPU
CAMERA_STEPS = (1, 2, 4, 6, 8, 10, 12, 16, 20, 24, 32)
BEFORE = "openvino int8, 1 stream (before)"


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


def vit_flops(config) -> float:
    """Multiply-adds times two for one image through a ViT classifier: patch embedding, blocks, head."""
    tokens = (config.image_size // config.patch_size) ** 2 + 1
    d, mlp = config.hidden_size, config.intermediate_size
    per_block = 2 * tokens * (4 * d * d + 2 * d * mlp) + 4 * tokens * tokens * d
    patch = 2 * (tokens - 1) * d * 3 * config.patch_size ** 2
    return config.num_hidden_layers * per_block + patch + 2 * d * config.num_labels


def save_models(directory: Path) -> tuple[Path, Path, object, object]:
    """ViT-B/16 violence and gender checkpoints in transformers' layout, loaded by the worker's own loaders."""
    violence, gender = vit_b16(("non-violence", "violence"), seed=0), vit_b16(("female", "male"), seed=1)
    violence.save_pretrained(directory / "violence")
    gender.save_pretrained(directory / "gender")
    return directory / "violence", directory / "gender", violence, gender


def write_calibration(directory: Path, count: int) -> None:
    """Frames of the benchmark's own cameras (other seeds than the measured clips), as `calibrate` would save them."""
    for camera_index in range(2):
        target = directory / f"cam{camera_index}"
        target.mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(moving_frames(count * 3, seed=20 + camera_index)[::3]):
            cv2.imwrite(str(target / f"m-{i:05d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 95])


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


# (b) the worker on each runtime ------------------------------------------------------------------


@dataclass
class Variant:
    """The worker's classifiers on one runtime and precision, built as the worker builds them."""

    runtime: str
    precision: str
    violence: ViTClassifier
    people: PeopleCounter
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or f"{self.runtime} {self.precision}"


def settings(args, scratch: Path, **extra) -> InferenceSettings:
    # The accuracy gate is reported, not applied, here: random weights and random-looking frames are the worst case
    # for int8, and the benchmark measures int8's speed; its probability change is in the accuracy column.
    return InferenceSettings(threads=args.threads, batch_size=args.batch_size, cache_dir=str(scratch / "cache"),
                             calibration_dir=str(scratch / "calibration"), int8_tolerance=0.99, **extra)


def build_variants(args, scratch: Path, violence_dir: Path, gender_dir: Path) -> list[Variant]:
    builder = ModelBuilder(settings(args, scratch), NO_EVENTS_THRESHOLD)
    violence, gender = builder.open("violence", str(violence_dir)), builder.open("gender", str(gender_dir))
    bf16 = ["bf16"] if cpu_native_bf16() else []
    wanted = [("torch", p) for p in ("fp32", *bf16, "int8")]
    wanted += [("openvino", p) for p in ("fp32", *bf16, "int8")] if installed("openvino") else []
    wanted += [("onnxruntime", p) for p in ("fp32", "int8")] if installed("onnxruntime") else []
    if args.variants:  # PyTorch fp32 stays: it is the accuracy reference
        wanted = [w for w in wanted if w == ("torch", "fp32") or f"{w[0]}:{w[1]}" in args.variants]
    variants = []
    for runtime, precision in wanted:
        started = time.perf_counter()
        if runtime == "torch":
            placement = builder.placement(precision)
            classifier, census = builder.torch_classifier(violence, placement), builder.torch_classifier(gender, placement)
        else:
            classifier = builder.converted_classifier(violence, runtime, precision)
            census = builder.converted_classifier(gender, runtime, "fp32" if precision == "int8" else precision)
        print(f"built {runtime} {precision} in {time.perf_counter() - started:.0f} s: {classifier.runtime.describe()}",
              flush=True)
        variants.append(Variant(runtime, precision, classifier, PeopleCounter(HogPersonDetector(), census)))
    if args.before and ("openvino", "int8") in wanted:
        # The worker before batches were split across streams: one request on every thread.
        one = ModelBuilder(settings(args, scratch, streams=1), NO_EVENTS_THRESHOLD)
        classifier = one.converted_classifier(one.open("violence", str(violence_dir)), "openvino", "int8")
        census = one.converted_classifier(one.open("gender", str(gender_dir)), "openvino", one.unquantized("openvino"))
        variants.append(Variant("openvino", "int8", classifier, PeopleCounter(HogPersonDetector(), census), BEFORE))
    return variants


def worker_config(cameras: list[dict], args, spool: Path) -> DetectorConfig:
    return DetectorConfig.model_validate({
        "cameras": cameras,
        "inference": {"batch_size": args.batch_size, "threads": args.threads, "max_batch_wait_ms": 50},
        # Random weights score about 0.5-0.85; a real fight raises one event per camera per 120 s cooldown, not one
        # per short round, so events are kept out of the throughput runs.
        "decision": {"threshold": NO_EVENTS_THRESHOLD},
        "publisher": {"spool_dir": str(spool)},
        "status_interval_s": 3600,
    })


def camera(index: int, video: Path, **extra) -> dict:
    return {"id": f"cam{index}", "source": str(video), "device_id": f"CAM-{index:02d}", "device_key": "bench",
            "beacon_id": "bench", "analysis_fps": 2, **extra}


def run_worker(config: DetectorConfig, variant: Variant, seconds: float | None = None):
    """Run the real worker; returns it with wall and process CPU seconds. seconds=None runs until the files end."""
    app = DetectorApp(config, violence=variant.violence, people=variant.people, publisher=NullPublisher())
    if seconds is not None:
        threading.Timer(seconds, app.stop.set).start()
    wall, cpu = time.perf_counter(), time.process_time()
    app.run()
    return app, time.perf_counter() - wall, time.process_time() - cpu


def pipeline_fps(videos: list[Path], variant: Variant, args, spool: Path) -> float:
    """Sampled frames with motion the worker gets through per second, start-up and shut-down included."""
    app, wall, _ = run_worker(worker_config([camera(i, v) for i, v in enumerate(videos)], args, spool), variant)
    return sum(s.analysed for s in app.analyzer.stats.values()) / wall


def model_fps(variant: Variant, pixels: np.ndarray, batch: int, cpu_rates: list | None = None) -> float:
    """The violence model alone: preprocessed batches through the runtime. Appends to cpu_rates the images per CPU
    second times the cores: what the cores would give undisturbed, if the work spreads over them."""
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(pixels), batch):
        variant.violence.runtime.infer(pixels[start:start + batch])
    if cpu_rates is not None:
        cpu_rates.append(len(pixels) / max(time.process_time() - cpu, 1e-9) * (os.cpu_count() or 1))
    return len(pixels) / (time.perf_counter() - started)


def alternating(sides: dict, rounds: int, label: str) -> dict:
    """Every side once per round, in a rotating order; returns each side's rates and others' CPU shares."""
    results = {name: [] for name in sides}
    others = {name: [] for name in sides}
    order = list(sides)
    for round_ in range(rounds):
        shift = round_ % len(order)
        for name in order[shift:] + order[:shift]:
            rate, share = with_others_share(sides[name])
            results[name].append(rate)
            others[name].append(share)
        print(f"{label} round {round_ + 1}: " + ", ".join(f"{n} {results[n][-1]:.2f}" for n in sides)
              + f"; load {os.getloadavg()[0]:.1f}", flush=True)
    return {"rates": results, "others": others}


def accuracy(variants: list[Variant], frames: list[np.ndarray]) -> dict[str, tuple[float, float]]:
    """Each variant's violence probabilities against PyTorch fp32's: max and mean absolute change."""
    reference = next(v for v in variants if v.name == "torch fp32").violence.scores(frames, "violence")
    out = {}
    for variant in variants:
        delta = np.abs(variant.violence.scores(frames, "violence") - reference)
        out[variant.name] = (float(delta.max()), float(delta.mean()))
    return out


def auto_choice(args, scratch: Path, violence_dir: Path, gender_dir: Path) -> tuple[str, str, str, list]:
    """What `runtime: auto`, `precision: auto` picks on this machine, by the worker's own measurement."""
    from detection.models import build

    table = []
    original = build.log_table
    build.log_table = lambda rows: table.extend(rows)  # keep the rows; the worker logs them
    try:
        builder = ModelBuilder(settings(args, scratch, runtime="auto", precision="auto").model_copy(
            update={"int8_tolerance": 0.02}), 0.75)
        classifier, choice = builder.violence_classifier(builder.open("violence", str(violence_dir)))
    finally:
        build.log_table = original
    return choice.runtime, choice.precision, choice.reason, table


def sustained(count: int, video: Path, variant: Variant, args, spool: Path) -> dict:
    cameras = [camera(i, video, loop=True, realtime=True) for i in range(count)]
    (app, wall, cpu), others = with_others_share(
        lambda: run_worker(worker_config(cameras, args, spool), variant, args.camera_seconds)
    )
    stats = list(app.analyzer.stats.values())
    sampled = sum(src.stats.frames_sampled for src in app.sources.values())
    return {
        "cameras": count,
        "analysed": sum(s.analysed for s in stats),
        "fps_per_camera": [round((s.analysed + s.skipped_static) / wall, 2) for s in stats],
        "analysed_share": sum(s.analysed for s in stats) / max(sum(s.analysed + s.skipped_static for s in stats), 1),
        "dropped_share": sum(s.dropped for s in stats) / max(sampled, 1),
        "cpu_cores": cpu / wall,
        "cpu_ms_per_frame": 1000 * cpu / max(sum(s.analysed for s in stats), 1),
        "others": others,
        "load": os.getloadavg()[0],
        "variant": variant.name,
    }


def kept_up(run: dict) -> bool:
    return run["dropped_share"] < 0.05 and min(run["fps_per_camera"]) >= 1.8


def sustained_runs(args, busy: Path, variants: list[Variant], spool: Path) -> list[dict]:
    """Step the camera count up; at each step every variant still keeping up runs once, in alternating order."""
    runs, going = [], list(variants)
    for step, count in enumerate([c for c in CAMERA_STEPS if c <= args.max_cameras]):
        order = going[step % len(going):] + going[:step % len(going)]
        for variant in order:
            run = sustained(count, busy, variant, args, spool)
            runs.append(run)
            print(f"sustained: {run}", flush=True)
            if not kept_up(run):
                going.remove(variant)
        if not going:
            break
    return runs


def static_cost(video: Path, variant: Variant, args, spool: Path) -> dict:
    config = worker_config([camera(0, video, loop=True, realtime=True)], args, spool)
    app, wall, cpu = run_worker(config, variant, args.static_seconds)
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
    flags = sorted(f for f in present if f in {"avx2", "fma", "avx_vnni"} or f.startswith(("avx512", "amx")))
    versions = {"torch": torch.__version__}
    for package in ("openvino", "onnxruntime", "nncf"):
        try:
            versions[package] = __import__(package).__version__.split("-")[0]
        except ImportError:
            pass
    return {"cpu": model, "cores": os.cpu_count(), "flags": ", ".join(flags), "versions": versions,
            "load": os.getloadavg()[0]}


def _best(values: list[float], others: list[float]) -> tuple[float, bool]:
    """The best quiet round when there is one (and whether there was), else the best round."""
    quiet = [x for x, share in zip(values, others) if share < QUIET]
    return (max(quiet), True) if quiet else (max(values), False)


def _rounds(values: list[float], others: list[float]) -> str:
    return ", ".join(f"{x:.2f} ({100 * share:.0f}%)" for x, share in zip(values, others))


def _arithmetic(precision: str) -> str:
    return {"int8": "int8", "bf16": "bf16"}.get(precision, "fp32")


def render(results: dict, notes: str = "") -> str:
    m, worker, alone = results["machine"], results["worker"], results["alone"]
    peaks, flops = results["peaks"], results["flops"]
    best_a, quiet_a = _best(worker["rates"]["baseline"], worker["others"]["baseline"])
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    lines = [
        SECTION, "",
        f"Measured by `bench/bench_detection.py` on {results['date']}: **{m['cpu']}**, {m['cores']} cores "
        f"(CPU flags: {m['flags']}); {versions}; {results['threads']} threads per runtime. "
        f"1-minute load average {m['load']:.1f} at the start and {results['load_end']:.1f} at the end: "
        + ("**the cores were shared with other engineers' builds and tests throughout**, so every figure below is "
           "what was left of the machine, not its capacity. "
           if max(m["load"], results["load_end"]) >= m["cores"] else "the machine was otherwise quiet. ")
        + "The sides alternate in rounds (rotating order); each round "
        "records the share of the machine's CPU other processes used meanwhile (in brackets), a round under "
        f"{100 * QUIET:.0f}% counts as quiet, and each side's best quiet round (else best round) is kept, since "
        "other work only ever slows a round down. Full-size ViT-B/16 models with random weights "
        f"({flops / 1e9:.1f} GFLOP per image), {WIDTH}x{HEIGHT} frames with motion in every frame. A worker round "
        f"is {results['cameras']} cameras of {results['frames'] + 1} sampled frames each, start-up and shut-down "
        "of the whole worker included; the decision threshold is raised so random weights raise no events.",
        "",
        "Peak of this machine as measured by `bench/peak.py` in the same run (the best of a 2048x2048 matrix "
        "product and ViT-B/16's two MLP products on OpenVINO's oneDNN kernels, one thread timed in CPU time, times "
        "the cores, best of alternating rounds): "
        + ", ".join(f"{name} {rate:,.0f} GOP/s" for name, rate in peaks.items())
        + ", so ViT-B/16 could reach at most "
        + ", ".join(f"{rate * 1e9 / flops:.1f} img/s in {name}" for name, rate in peaks.items()) + ".",
        "",
        "| | worker: frames/s, best round | all rounds (others' CPU share) | vs (a) | model alone, img/s at batch "
        f"{results['batch_size']}, best round | all rounds (others' CPU share) | model alone by CPU time: img per "
        "CPU second x cores, best round | its share of this machine's peak "
        "| max (mean) violence probability change vs PyTorch fp32 |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| (a) baseline: `pipeline(\"image-classification\")` per frame, fp32, batch 1, violence then gender "
        f"| {best_a:.2f}{'' if quiet_a else ' (none quiet)'} "
        f"| {_rounds(worker['rates']['baseline'], worker['others']['baseline'])} | 1x | | | | | |",
    ]
    for name in results["variants"]:
        best, quiet = _best(worker["rates"][name], worker["others"][name])
        model, _ = _best(alone["rates"][name], alone["others"][name])
        by_cpu = max(alone.get("cpu_rates", {}).get(name) or [0.0])
        precision = name.split()[1].rstrip(",")
        peak = peaks.get(_arithmetic(precision))
        share = f"{100 * by_cpu * flops / 1e9 / peak:.0f}% of {_arithmetic(precision)}" if peak and by_cpu else "-"
        max_delta, mean_delta = results["accuracy"][name]
        mark = "**" if name == results["auto"]["name"] and results["auto"]["table"] else ""
        lines.append(
            f"| (b) worker, {mark}{name}{mark}{' (`auto` picks this)' if mark else ''} "
            f"| {best:.2f}{'' if quiet else ' (none quiet)'} | {_rounds(worker['rates'][name], worker['others'][name])} "
            f"| {mark}{best / best_a:.2f}x{mark} | {model:.1f} | {_rounds(alone['rates'][name], alone['others'][name])} "
            f"| {by_cpu:.1f} | {share} | {max_delta:.4f} ({mean_delta:.4f}) |"
        )
    auto = results["auto"]
    table = "; ".join(
        f"{r['runtime']} {r['precision']} {r['images_per_s']:.1f} img/s" + ("" if r["accepted"] else " (not used: " + (
            r["note"] or f"moved a probability {r['max_delta']:.3f}") + ")")
        for r in auto["table"]
    )
    lines += [
        "",
        f"- `runtime: auto`, `precision: auto` on this machine (the worker's own start-up measurement, "
        f"int8 gate at the default 0.02): **{auto['name']}** ({auto['reason']}). Its table: {table}."
        if auto["table"] else f"- `auto` was not measured in this run (`--variants`); the cameras ran {auto['name']}.",
        f"- int8 accuracy: the int8 models were calibrated by NNCF on {results['calibration_frames']} frames of the "
        "benchmark's own cameras (other clips than those measured) and compared with PyTorch fp32 on "
        f"{results['accuracy_frames']} held-out benchmark frames (the column above). The worker's gate (0.02, no "
        "decision flip at the threshold) was switched off for the speed rows only; `auto`'s line above applies it. "
        "Random weights with random-looking frames are a hard case for post-training quantization; with the real "
        "weights, run `calibrate` and read the gate's log line.",
    ]
    for run in results["sustained"]:
        fps = ", ".join(map(str, run["fps_per_camera"]))
        cpu_ms, load = run.get("cpu_ms_per_frame"), run.get("load")
        lines.append(
            f"- {run['cameras']} camera{'s' if run['cameras'] > 1 else ''} at 2 analysed fps, motion in every frame, "
            f"{run.get('variant', auto['name'])}, paced in real time for {results['camera_seconds']:.0f} s: frames/s "
            f"per camera {fps}, {100 * run['dropped_share']:.0f}% of sampled frames dropped, {run['cpu_cores']:.2f} "
            f"cores busy{f', {cpu_ms:.0f} CPU ms per analysed frame' if cpu_ms else ''}, other processes "
            f"{100 * run['others']:.0f}% of the CPU{f' (load {load:.1f})' if load else ''}."
        )
    for name in dict.fromkeys(r.get("variant", auto["name"]) for r in results["sustained"]):
        runs = [r for r in results["sustained"] if r.get("variant", auto["name"]) == name]
        kept = [r["cameras"] for r in runs if kept_up(r)]
        costs = [r["cpu_ms_per_frame"] for r in runs if r.get("cpu_ms_per_frame")]
        capacity = (f"; at its median {sorted(costs)[len(costs) // 2]:.0f} CPU ms per analysed frame the "
                    f"{m['cores']} cores, undisturbed, would carry about "
                    f"{m['cores'] * 1000 / sorted(costs)[len(costs) // 2] / 2:.1f} cameras") if costs else ""
        lines.append(f"- **{name}: cameras sustained at 2 fps with motion in every frame on what the other work "
                     f"left of the machine: {max(kept) if kept else 0}** (steps "
                     f"{', '.join(str(r['cameras']) for r in runs)}; the first step that dropped frames or fell "
                     f"below 1.8 fps ends its run){capacity}.")
    s = results["static"]
    lines.append(
        f"- A static camera ({WIDTH}x{HEIGHT} MPEG-4 at 25 fps, decoded in real time, 2 fps through the motion gate) "
        f"costs {100 * s['cpu_share']:.1f}% of one core ({s['analysed']} frames reached the model, {s['skipped']} "
        f"were skipped in {s['seconds']:.0f} s)."
    )
    lines += ["", notes, ""] if notes else [""]
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


def notes(args) -> str:
    return args.notes.read_text(encoding="utf-8").strip() if args.notes else ""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=12, help="Frames per camera per worker round.")
    parser.add_argument("--baseline-frames", type=int, default=4, help="Frames per baseline round.")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds of (a) and every (b).")
    parser.add_argument("--model-frames", type=int, default=32, help="Frames per model-alone round.")
    parser.add_argument("--pipeline-cameras", type=int, default=2, help="Cameras sharing the worker in (b).")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--calibration-frames", type=int, default=24, help="Per camera, two cameras.")
    parser.add_argument("--camera-seconds", type=float, default=15.0, help="Length of each sustained-cameras run.")
    parser.add_argument("--max-cameras", type=int, default=16, help="Most cameras tried in the sustained runs.")
    parser.add_argument("--static-seconds", type=float, default=15.0)
    parser.add_argument("--accuracy-frames", type=int, default=16)
    parser.add_argument("--peak-seconds", type=float, default=2.0)
    parser.add_argument("--work-dir", type=Path, help="Keep models, converted models and calibration frames here "
                        "(reused by the next run: conversion and quantization of ViT-B take minutes); a temporary "
                        "directory when unset.")
    parser.add_argument("--render", type=Path, help="Only render the section from a results JSON of an earlier run.")
    parser.add_argument("--notes", type=Path, help="A file whose text is appended to the section (what limits it).")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--variants", nargs="*", help="Only these runtime:precision pairs (e.g. openvino:int8) besides "
                        "PyTorch fp32, the accuracy reference; `auto` is then not measured and --camera-variant is "
                        "used for the cameras.")
    parser.add_argument("--camera-variant", default="openvino int8", help="Variant for the cameras when auto is not run.")
    parser.add_argument("--before", action=argparse.BooleanOptionalAction, default=True,
                        help="Also run OpenVINO int8 on one request over every thread (the worker before streams).")
    parser.add_argument("--quick", action="store_true", help="Tiny run to check the script; writes nothing.")
    args = parser.parse_args()
    if args.quick:
        args.frames, args.baseline_frames, args.rounds, args.accuracy_frames, args.model_frames = 2, 1, 1, 4, 8
        args.camera_seconds, args.static_seconds, args.max_cameras, args.peak_seconds = 4.0, 3.0, 1, 0.3
    return args


def main() -> None:
    args = parse_args()
    if args.render:
        section = render(json.loads(args.render.read_text(encoding="utf-8")), notes(args))
        print(section)
        write_section(args.out, section)
        return
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("nncf").setLevel(logging.ERROR)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    results: dict = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "threads": args.threads,
                     "batch_size": args.batch_size, "camera_seconds": args.camera_seconds, "frames": args.frames,
                     "cameras": args.pipeline_cameras, "accuracy_frames": args.accuracy_frames,
                     "calibration_frames": 2 * args.calibration_frames - 2 * (args.calibration_frames // 4),
                     "peak_size": 2048}
    print(f"machine: {results['machine']}", flush=True)

    with tempfile.TemporaryDirectory() as temporary:
        scratch = args.work_dir or Path(temporary)
        scratch.mkdir(parents=True, exist_ok=True)
        spool = scratch / "spool"
        violence_dir, gender_dir, violence_model, gender_model = save_models(scratch / "models")
        results["flops"] = vit_flops(violence_model.config)
        write_calibration(scratch / "calibration", args.calibration_frames)
        variants = build_variants(args, scratch, violence_dir, gender_dir)
        # PyTorch fp32 is always built (the accuracy reference) but timed only when asked for or when all are.
        timed = [v for v in variants if not args.variants or v.name != "torch fp32" or "torch:fp32" in args.variants]
        results["variants"] = [v.name for v in timed]
        baseline = make_baseline(violence_model, gender_model)

        results["peaks"] = measure_peaks(args.threads, args.peak_seconds, rounds=2 if args.quick else 3)
        print(f"peaks: {results['peaks']}", flush=True)

        clips = [write_video(scratch / f"busy{i}.mp4", moving_frames(args.frames * 5 + 5, seed=i), 10)
                 for i in range(args.pipeline_cameras)]
        frames = moving_frames(args.baseline_frames, seed=3)
        baseline_fps(baseline, frames[:1])  # first-call set-up is not steady state
        pixels = variants[0].violence.preprocess(moving_frames(args.model_frames, seed=6))
        for variant in timed:
            model_fps(variant, pixels[:args.batch_size], args.batch_size)
        worker_sides = {"baseline": lambda: baseline_fps(baseline, frames)}
        worker_sides.update({v.name: (lambda v=v: pipeline_fps(clips, v, args, spool)) for v in timed})
        results["worker"] = alternating(worker_sides, args.rounds, "worker")
        cpu_rates: dict[str, list[float]] = {v.name: [] for v in timed}
        alone_sides = {v.name: (lambda v=v: model_fps(v, pixels, args.batch_size, cpu_rates[v.name])) for v in timed}
        results["alone"] = alternating(alone_sides, args.rounds, "model alone")
        results["alone"]["cpu_rates"] = cpu_rates
        results["accuracy"] = accuracy(variants, moving_frames(args.accuracy_frames, seed=40))

        if args.variants:
            name = args.camera_variant
            results["auto"] = {"name": name, "reason": "not measured in this run (--variants)", "table": []}
        else:
            runtime, precision, reason, table = auto_choice(args, scratch, violence_dir, gender_dir)
            name = f"{runtime} {precision}"
            results["auto"] = {"name": name, "reason": reason, "table": [asdict(row) for row in table]}
            print(f"auto: {name} ({reason})", flush=True)
        chosen = next((v for v in variants if v.name == name), variants[0])
        compared = [chosen] + [v for v in variants if v.name == BEFORE and chosen.name == "openvino int8"]

        busy = write_video(scratch / "busy-live.mp4", moving_frames(250, seed=9), 25)
        still = write_video(scratch / "static.mp4", [moving_frames(1)[0]] * 250, 25)
        results["sustained"] = sustained_runs(args, busy, compared, spool)
        results["static"] = static_cost(still, chosen, args, spool)

    results["load_end"] = os.getloadavg()[0]
    saved = Path(tempfile.gettempdir()) / "bench_detection_results.json"
    saved.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"results saved to {saved} (re-render with --render)", flush=True)
    section = render(results, notes(args))
    print("\n" + section)
    if not args.quick:
        write_section(args.out, section)
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
