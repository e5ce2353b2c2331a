"""Benchmark of the worker's audio half against the naive per-window transformers pipeline; writes docs/benchmarks.md.

    .venv/bin/python bench/bench_audio.py            # about 3 minutes on 2 idle cores
    .venv/bin/python bench/bench_audio.py --quick    # a smoke run, results not written

Both sides use the full-size AST (Audio Spectrogram Transformer, 86 M parameters, 1024 fbank frames of 128 mel bins,
16x16 patches with stride 10, 527 AudioSet labels) with random weights: the arithmetic is the real model's, only the
answers are meaningless. Measured in one run, in alternating rounds:
(a) the naive way: transformers pipeline("audio-classification") on every window (10.24 s of context, 1 s hop),
    fp32, one window at a time;
(b) this worker with its gate switched off: PyAV capture and resampling, ring buffers, every window through the
    model batched across sources, in the precision `auto` picks on this machine (int8 without native bf16, bf16 with);
(g) the same worker with its gate on, on sources that are quiet but for a 2 s scream every 20 s;
then the CPU cost of a quiet source paced in real time, and how far that precision moves the scores from fp32.
The figure of merit is sources handled in real time: seconds of one source's sound analysed per second of wall time
(for (a), windows per second, since every second of every source is one window).
"""

from __future__ import annotations

import argparse
import copy
import logging
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

from bench_detection import QUIET, machine, with_others_share  # noqa: E402

from detection.audio.capture import SAMPLE_RATE  # noqa: E402
from detection.audio.gate import EnergyVoiceGate  # noqa: E402
from detection.audio.model import ASTClassifier, resolve_runtime  # noqa: E402
from detection.audio.pipeline import AudioPipeline  # noqa: E402
from detection.config import (  # noqa: E402
    DEFAULT_AUDIO_CLASSES,
    AudioGateSettings,
    DetectorConfig,
    InferenceSettings,
)
from detection.publisher import Publisher  # noqa: E402
from detection.tests.audio_factories import (  # noqa: E402
    scream,
    silence,
    speech_like,
    timeline,
    write_media,
)

SECTION = "## Audio detection"
NO_EVENTS_THRESHOLD = 0.99


class NullPublisher(Publisher):
    def send(self, event) -> None:
        pass


def full_ast(seed: int = 0):
    """The AudioSet AST's architecture (transformers' ASTConfig defaults) with the default classes among its labels."""
    from transformers import ASTConfig, ASTForAudioClassification

    labels = [*DEFAULT_AUDIO_CLASSES, *(f"Label {i}" for i in range(527 - len(DEFAULT_AUDIO_CLASSES)))]
    torch.manual_seed(seed)
    config = ASTConfig(num_labels=527, id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)})
    return ASTForAudioClassification(config).eval()


def feature_extractor():
    from transformers import ASTFeatureExtractor

    return ASTFeatureExtractor()  # the AudioSet checkpoint's settings: 128 mel bins, 1024 frames


def classifier(model, precision: str, threads: int) -> ASTClassifier:
    # int8 quantizes in place, so each precision gets its own copy of the same weights.
    runtime = resolve_runtime(InferenceSettings(threads=threads, precision=precision))
    return ASTClassifier(copy.deepcopy(model), feature_extractor(), list(DEFAULT_AUDIO_CLASSES), runtime)


# (a) the baseline --------------------------------------------------------------------------------


def make_baseline(model):
    from transformers import pipeline

    return pipeline("audio-classification", model=model, feature_extractor=feature_extractor(), device="cpu")


def baseline_rate(pipe, windows: list[np.ndarray]) -> float:
    started = time.perf_counter()
    for window in windows:
        pipe({"raw": window, "sampling_rate": SAMPLE_RATE})
    return len(windows) / (time.perf_counter() - started)


# (b), (g): the worker's audio half ------------------------------------------------------------------


def config_for(files: list[Path], *, gate: bool, batch_size: int, threads: int, spool: Path, realtime=False):
    cameras = [{"id": f"mic{i}", "source": str(f), "device_id": f"MIC-{i}", "device_key": "bench", "beacon_id": "bench",
                "realtime": realtime, "audio": {}} for i, f in enumerate(files)]
    return DetectorConfig.model_validate({
        "cameras": cameras,
        "inference": {"threads": threads, "max_batch_wait_ms": 50},
        "audio": {"batch_size": batch_size, "gate": {"enabled": gate},
                  "decision": {"threshold": NO_EVENTS_THRESHOLD}},
        "publisher": {"spool_dir": str(spool)},
    })


def run_audio(config: DetectorConfig, model: ASTClassifier, seconds: float | None = None):
    """The real audio pipeline until its files end (or for `seconds`); returns it with wall and process CPU seconds."""
    stop = threading.Event()
    pipeline = AudioPipeline(config, None, NullPublisher(), stop, classifier=model)
    if seconds is not None:
        threading.Timer(seconds, stop.set).start()
    wall, cpu = time.perf_counter(), time.process_time()
    pipeline.start()
    pipeline.thread.join()
    stop.set()
    pipeline.join()
    return pipeline, time.perf_counter() - wall, time.process_time() - cpu


def worker_rate(files, model, args, spool, *, gate: bool) -> tuple[float, float]:
    """Seconds of sound analysed per wall second (sources in real time), and the share of windows the model saw."""
    config = config_for(files, gate=gate, batch_size=args.batch_size, threads=args.threads, spool=spool)
    pipeline, wall, _ = run_audio(config, model)
    stats = pipeline.analyzer.stats.values()
    hops = sum(s.analysed + s.skipped_quiet for s in stats)
    return hops * config.audio.hop_s / wall, sum(s.analysed for s in stats) / max(hops, 1)


def quiet_cost(path: Path, model, args, spool) -> dict:
    config = config_for([path], gate=True, batch_size=args.batch_size, threads=args.threads, spool=spool, realtime=True)
    pipeline, wall, cpu = run_audio(config, model, args.quiet_seconds)
    stats = pipeline.analyzer.stats["mic0"]
    return {"cpu_share": cpu / wall, "analysed": stats.analysed, "skipped": stats.skipped_quiet, "seconds": wall}


def gate_cost_us(hops: int = 200) -> float:
    gate = EnergyVoiceGate(AudioGateSettings())
    audio = speech_like(hops, rms=0.003)
    started = time.perf_counter()
    for i in range(hops):
        gate.apply(audio[i * SAMPLE_RATE:(i + 1) * SAMPLE_RATE])
    return (time.perf_counter() - started) / hops * 1e6


# Reporting ---------------------------------------------------------------------------------------


def _best(values, others):
    quiet = [x for x, share in zip(values, others) if share < QUIET]
    return (max(quiet), True) if quiet else (max(values), False)


def _rounds(values, others) -> str:
    return ", ".join(f"{x:.2f} ({100 * share:.0f}%)" for x, share in zip(values, others))


def render(r: dict) -> str:
    m, others = r["machine"], r["others"]
    (a, qa), (b8, qb), (g8, qg) = (_best(r[k], others[k]) for k in ("baseline", "ungated", "gated"))
    q = r["quiet"]
    basis = "best quiet rounds" if qa and qb and qg else "best rounds (not all sides had a quiet round)"
    lines = [
        SECTION, "",
        f"Measured by `bench/bench_audio.py` on {r['date']}: {m['cpu']}, {m['cores']} cores "
        f"(CPU flags: {m['flags'] or 'none of avx2/avx512/bf16'}), torch {m['torch']}, {r['threads']} PyTorch threads; "
        f"1-minute load average {m['load']:.1f} at the start and {r['load_end']:.1f} at the end. The sides alternate "
        "in rounds (rotating order); each round records the share of the machine's CPU other processes used meanwhile "
        f"(in brackets), and a round under {100 * QUIET:.0f}% counts as quiet. Full-size AST (AudioSet architecture, "
        "random weights; same arithmetic as `MIT/ast-finetuned-audioset-10-10-0.4593`), 10.24 s windows every 1 s. "
        f"A round is {r['baseline_windows']} windows through (a); for (b) {r['sources']} sources of "
        f"{r['ungated_seconds']} s each (44.1 kHz stereo AAC, decoded and resampled by the worker), every window "
        f"through the model; for (g) {r['sources']} sources of {r['gated_seconds']} s, quiet (faint room noise and "
        "distant talk) but for one 2 s scream each. Every worker round starts and stops the whole audio pipeline. "
        f"Decision threshold {NO_EVENTS_THRESHOLD} so that random weights raise no reports.",
        "",
        "| | sources in real time (s of sound per s), best quiet round (else best) | median | all rounds (others' CPU) | vs (a) |",
        "|---|---|---|---|---|",
        f"| (a) baseline: `pipeline(\"audio-classification\")` on every window, fp32, batch 1 | {a:.2f}"
        f"{'' if qa else ' (none quiet)'} | {statistics.median(r['baseline']):.2f} "
        f"| {_rounds(r['baseline'], others['baseline'])} | 1x |",
        f"| (b) this worker, gate off: every window, batched across sources (batch {r['batch_size']}), "
        f"precision auto ({r['precision']} here) "
        f"| {b8:.2f}{'' if qb else ' (none quiet)'} | {statistics.median(r['ungated']):.2f} "
        f"| {_rounds(r['ungated'], others['ungated'])} | {b8 / a:.2f}x |",
        f"| (g) this worker, gate on, mostly quiet sources ({100 * r['gated_share']:.0f}% of windows reached the model) "
        f"| {g8:.2f}{'' if qg else ' (none quiet)'} | {statistics.median(r['gated']):.2f} "
        f"| {_rounds(r['gated'], others['gated'])} | **{g8 / a:.2f}x** |",
        "",
        f"On {basis}: gate off, the worker handles **{b8 / a:.2f}x** the baseline's sources; with the gate on and "
        f"sources that are quiet most of the time, **{g8 / a:.2f}x**. "
        + ("The 4x aim is met only with the gate: " if b8 / a < 4 <= g8 / a else "")
        + "with every window through the model, one 10 s AST window costs more than a second of these two cores, "
        "so no side keeps even one source in real time ungated here; the gate is what makes sources affordable.",
        "",
        *([] if qa and qb and qg else [
            "No round was quiet: other work held most of the machine throughout, so every rate above is several "
            "times below what these cores give when idle. The ratios compare sides under the same load, but "
            "load flatters the batched worker a little (the batch-1 baseline stalls more whenever another process "
            "holds a core), and (g)'s ratio is set mostly by how often the gate opens: the share of windows that "
            "reached the model. Rerun on an idle machine before planning capacity on these figures.",
            "",
        ]),
        f"- A quiet source (44.1 kHz stereo AAC, decoded in real time, {q['seconds']:.0f} s) costs **"
        f"{100 * q['cpu_share']:.1f}% of one core**: {q['analysed']} windows reached the model, {q['skipped']} were "
        f"skipped by the gate; nearly all of it is decoding and resampling. The gate alone takes "
        f"{r['gate_us']:.0f} µs per 1 s hop ({100 * r['gate_us'] / 1e6:.3f}% of a core).",
        f"- Accuracy: over {r['accuracy_windows']} windows {r['precision']} moves the watched classes' probabilities by at most "
        f"**{r['max_delta']:.4f}** from fp32 (random weights; compare on recorded sound with the real model).",
        "- The model alone, windows/s at batch 1 / batch " + str(r["batch_size"]) + ": "
        + ", ".join(f"{name} {one:.2f} / {many:.2f}" for name, (one, many) in r["model_rate"].items()) + ".",
        "",
        "Where the gain comes from: windows the gate keeps from the model cost nothing but the gate (the scream's "
        "own windows and the hold after it still go through); the cheaper precision; batching across sources matters "
        "little on a compute-bound CPU. What the ungated ratio cannot beat: AST attends over 1,214 patches per "
        "window, about 130 GMAC, all of it in the model.",
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        # Next to the video figures: right after the detection worker's section.
        anchor = re.search(r"^## Detection worker\n.*?(?=^## |\Z)", text, re.S | re.M)
        at = anchor.end() if anchor else len(text)
        text = text[:at].rstrip("\n") + "\n\n" + section + "\n" + text[at:]
    path.write_text(text, encoding="utf-8")


def model_rates(models: dict, windows: list[np.ndarray], batch: int) -> dict:
    rates = {}
    for name, model in models.items():
        model.scores(windows[:1])  # warm-up
        single = len(windows) / sum(_timed(lambda w=w: model.scores([w])) for w in windows)
        batched = len(windows) / _timed(lambda: [model.scores(windows[i:i + batch]) for i in range(0, len(windows), batch)])
        rates[name] = (single, batched)
    return rates


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="One short round, results printed and not written.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--sources", type=int, default=2)
    parser.add_argument("--baseline-windows", type=int, default=2)
    parser.add_argument("--ungated-seconds", type=int, default=2)
    parser.add_argument("--gated-seconds", type=int, default=20)
    parser.add_argument("--quiet-seconds", type=float, default=15.0)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.baseline_windows, args.ungated_seconds, args.gated_seconds, args.quiet_seconds = 1, 1, 2, 6, 4
    return args


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    r: dict = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "threads": torch.get_num_threads(),
               "batch_size": args.batch_size, "sources": args.sources, "baseline_windows": args.baseline_windows,
               "ungated_seconds": args.ungated_seconds, "gated_seconds": args.gated_seconds}
    print(f"machine: {r['machine']}", flush=True)
    model = full_ast()
    chosen, fp32 = classifier(model, "auto", args.threads), classifier(model, "fp32", args.threads)
    r["precision"] = chosen.runtime.precision
    baseline = make_baseline(model)
    context = chosen.context_samples
    rng = np.random.default_rng(0)
    windows = [(rng.standard_normal(context) * 0.1).astype(np.float32) for _ in range(max(args.baseline_windows, 2))]

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        spool = scratch / "spool"
        ungated = [write_media(scratch / f"loud{i}.mp4", speech_like(args.ungated_seconds, rms=0.1, seed=i,
                                                                        syllables=False)) for i in range(args.sources)]
        half = (args.gated_seconds - 2) / 2
        gated = [write_media(scratch / f"mostly-quiet{i}.mp4",
                             timeline(silence(half, seed=i), scream(2), speech_like(half, rms=0.003, seed=i)))
                 for i in range(args.sources)]
        quiet = write_media(scratch / "quiet.mp4", timeline(silence(args.quiet_seconds + 5)))
        sides = {
            "baseline": lambda: (baseline_rate(baseline, windows[:args.baseline_windows]), None),
            "ungated": lambda: worker_rate(ungated, chosen, args, spool, gate=False),
            "gated": lambda: worker_rate(gated, chosen, args, spool, gate=True),
        }
        order = list(sides)
        r.update({name: [] for name in sides})
        r["others"] = {name: [] for name in sides}
        for round_number in range(args.rounds):
            for name in order[round_number % 3:] + order[:round_number % 3]:
                (rate, share), others = with_others_share(sides[name])
                r[name].append(rate)
                r["others"][name].append(others)
                if name == "gated":
                    r["gated_share"] = share
                print(f"round {round_number + 1} {name}: {rate:.3f} (others {100 * others:.0f}%)", flush=True)
        r["quiet"] = quiet_cost(quiet, chosen, args, spool)
        print(f"quiet source: {r['quiet']}", flush=True)
    r["gate_us"] = gate_cost_us()
    batch = [timeline(silence(2), scream(2), silence(8))[:context], *windows[:2], speech_like(11, 0.05)[:context]]
    r["accuracy_windows"] = len(batch)
    r["max_delta"] = float(np.max(np.abs(fp32.scores(batch) - chosen.scores(batch))))
    r["model_rate"] = model_rates({"fp32": fp32, r["precision"]: chosen}, batch, args.batch_size)
    r["load_end"] = machine()["load"]
    section = render(r)
    print(section)
    if not args.quick:
        write_section(args.output, section)
        print(f"written to {args.output}")


if __name__ == "__main__":
    main()
