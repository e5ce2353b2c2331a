"""Building the worker's classifiers from its configuration: which runtime and precision, conversion, int8."""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import logging
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from detection.config import DetectorConfig, InferenceSettings
from detection.models import int8, onnx_runtime, openvino_runtime
from detection.models.cache import EntryKey, ModelCache, model_fingerprint
from detection.models.classifiers import (
    Preprocess,
    ViTClassifier,
    load_gender_model,
    load_violence_model,
    softmax,
)
from detection.models.errors import ModelError, ModelLoadError
from detection.models.int8 import CalibrationSet, accuracy_gate
from detection.models.loading import resolve_model_dir
from detection.models.runtime import (
    Placement,
    TorchRuntime,
    _cpu_flags,
    cpu_native_bf16,
    int8_unavailable,
    resolve_placement,
)
from detection.models.timm import VIOLENCE_LABELS

if TYPE_CHECKING:
    from detection.persons import PersonDetector

logger = logging.getLogger(__name__)

CONVERTED = {"openvino": openvino_runtime, "onnxruntime": onnx_runtime}
RUNTIME_CLASSES = {"openvino": openvino_runtime.OpenVINORuntime, "onnxruntime": onnx_runtime.OnnxRuntime}
PACKAGES = {"torch": "torch", "openvino": "openvino", "onnxruntime": "onnxruntime"}
# A converted fp32 model must give the PyTorch model's probabilities to within this, or it is not used.
ROUND_TRIP_TOLERANCE = 1e-3


def installed(runtime: str) -> bool:
    try:
        importlib.import_module(PACKAGES[runtime])
    except ImportError:
        return False
    return True


def synthetic_frames(count: int, seed: int = 0) -> list[np.ndarray]:
    """Deterministic noisy BGR frames: inputs of the right kind for conversion checks and timing, never calibration."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (120 + 8 * (i % 3), 160, 3), dtype=np.uint8) for i in range(count)]


def _logits_module(model):
    import torch

    class Logits(torch.nn.Module):
        """pixel_values in, logits out: the signature the converted models keep."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, pixel_values):
            return self.inner(pixel_values=pixel_values).logits

    return Logits(model).eval()


@dataclass
class ModelFiles:
    """One model's directory and fingerprint; its verified PyTorch load is made only when something needs it."""

    role: str  # "violence" or "gender"
    directory: Path
    fingerprint: str
    _model: object = field(default=None, repr=False)
    labels: tuple[str, ...] = ()
    preprocess: Preprocess | None = None

    def torch_model(self):
        """The verified PyTorch load (every weight from the checkpoint), the source every conversion starts from."""
        if self._model is None:
            if not installed("torch"):
                raise ModelError(
                    f"the {self.role} model has no converted copy for this runtime and version, and converting it "
                    f"needs torch, which is not installed here. Run `python -m detection convert --config ...` "
                    f"on a machine with requirements-detection.txt installed and copy inference.cache_dir here."
                )
            if self.role == "violence":
                model = load_violence_model(self.directory)
                labels = VIOLENCE_LABELS
            else:
                model, labels = load_gender_model(self.directory)
            self._model, self.labels = model, tuple(labels)
            self.preprocess = Preprocess.from_model_dir(self.directory, getattr(model.config, "image_size", 224))
        return self._model


@dataclass(frozen=True)
class Choice:
    runtime: str
    precision: str
    reason: str


@dataclass
class LoadedModels:
    violence: ViTClassifier
    gender: ViTClassifier
    person_detector: PersonDetector
    choice: Choice


class ModelBuilder:
    """Turns the inference settings into classifiers: converting and quantizing once, into the cache, when needed."""

    def __init__(self, settings: InferenceSettings, threshold: float, hf_cache: str | None = None):
        self.settings, self.threshold, self.hf_cache = settings, threshold, hf_cache
        self.cache = ModelCache(settings.cache_dir)
        self._calibration: CalibrationSet | None | bool = False  # False: not looked for yet

    # Finding things -------------------------------------------------------------------------------

    def open(self, role: str, source: str) -> ModelFiles:
        directory = resolve_model_dir(source, role=f"{role} model", setting=role, cache_dir=self.hf_cache)
        return ModelFiles(role, directory, model_fingerprint(directory))

    def calibration(self) -> CalibrationSet | None:
        if self._calibration is False:
            self._calibration = CalibrationSet.load(self.settings.calibration_dir)
        return self._calibration  # type: ignore[return-value]

    def wants_cuda(self) -> bool:
        if self.settings.device == "cuda":
            return True
        if self.settings.device == "cpu" or not installed("torch"):
            return False
        import torch

        return torch.cuda.is_available()

    # Cache entries ----------------------------------------------------------------------------------

    def converted(self, files: ModelFiles, runtime: str) -> tuple[Path, dict]:
        """The fp32 conversion of a model for a runtime, from the cache or converted now (needs torch)."""
        backend = CONVERTED[runtime]
        key = EntryKey(files.role, files.fingerprint, runtime, backend.version(), "fp32")
        if hit := self.cache.get(key):
            return hit
        logger.info("converting the %s model to %s (once; cached in %s)", files.role, runtime, self.cache.root)
        return self.cache.put(key, lambda scratch: self._convert(files, runtime, scratch))

    def _convert(self, files: ModelFiles, runtime: str, scratch: Path) -> dict:
        loaded = files.torch_model()  # first, so a host without torch hears what to do instead
        import torch

        model = _logits_module(loaded)
        assert files.preprocess is not None
        check = files.preprocess(synthetic_frames(4, seed=11))
        started = time.perf_counter()
        CONVERTED[runtime].save_converted(model, check[:2], scratch)
        with torch.inference_mode():
            expected = softmax(model(torch.from_numpy(check)).numpy())
        got = softmax(runtime_for(runtime, scratch, "fp32", self.settings).infer(check))
        delta = float(np.abs(expected - got).max())
        if delta > ROUND_TRIP_TOLERANCE:
            raise ModelLoadError(
                f"the {files.role} model converted to {runtime} gives probabilities up to {delta:.4f} away from "
                f"PyTorch's (allowed {ROUND_TRIP_TOLERANCE}); use inference.runtime torch"
            )
        logger.info("%s model converted to %s in %.1f s (probabilities within %.1e of PyTorch)",
                    files.role, runtime, time.perf_counter() - started, delta)
        return {
            "labels": list(files.labels), "preprocess": asdict(files.preprocess), "round_trip_max_delta": delta,
            "torch": torch.__version__, "source": str(files.directory),
        }

    def quantized(self, files: ModelFiles, runtime: str, calibration: CalibrationSet) -> tuple[Path, dict]:
        """The int8 model calibrated on the cameras' frames, with the accuracy gate's verdict, cached either way."""
        import nncf

        backend = CONVERTED[runtime]
        version = f"{backend.version()}+nncf{nncf.__version__}{int8.quantization_tag()}"
        key = EntryKey(files.role, files.fingerprint, runtime, version, f"int8-{calibration.fingerprint[:16]}")
        if hit := self.cache.get(key):
            return hit
        base, meta = self.converted(files, runtime)
        logger.info("quantizing the %s model to int8 for %s on %d calibration frames (once; cached)",
                    files.role, runtime, len(calibration.calibration))
        return self.cache.put(key, lambda scratch: self._quantize(base, meta, runtime, calibration, scratch))

    def _quantize(self, base: Path, meta: dict, runtime: str, calibration: CalibrationSet, scratch: Path) -> dict:
        preprocess = preprocess_from(meta)
        batches = [preprocess([image]) for image in calibration.images(calibration.calibration)]
        CONVERTED[runtime].save_quantized(base, batches, scratch)
        held_out = preprocess(calibration.images(calibration.held_out))
        index = meta["labels"].index("violence")
        reference = softmax(runtime_for(runtime, base, "fp32", self.settings).infer(held_out))[:, index]
        candidate = softmax(runtime_for(runtime, scratch, "int8", self.settings).infer(held_out))[:, index]
        # The held-out scores are kept rather than a verdict, so a changed tolerance or threshold is judged anew.
        return {**meta, "held_out": {"reference": reference.tolist(), "int8": candidate.tolist()},
                "calibration_frames": len(batches), "calibration_dir": str(self.settings.calibration_dir)}

    # Classifiers ----------------------------------------------------------------------------------

    def placement(self, precision: str) -> Placement:
        return resolve_placement(self.settings.model_copy(update={"precision": precision}))

    def torch_classifier(self, files: ModelFiles, placement: Placement) -> ViTClassifier:
        model = files.torch_model()
        # int8 quantizes in place; the loaded model stays fp32 for conversions.
        runtime = TorchRuntime(copy.deepcopy(model) if placement.int8 else model, placement)
        assert files.preprocess is not None
        return ViTClassifier(runtime, files.labels, files.preprocess)

    def unquantized(self, runtime: str) -> str:
        return "bf16" if runtime == "openvino" and cpu_native_bf16() else "fp32"

    def converted_classifier(self, files: ModelFiles, runtime: str, precision: str) -> ViTClassifier:
        """The model on a converted runtime; int8 only with calibration frames and a passed gate, else unquantized."""
        if precision == "bf16" and runtime == "onnxruntime":
            logger.warning("onnxruntime has no bf16 CPU kernels for these models; running the %s model in fp32",
                           files.role)
            precision = "fp32"
        if precision == "int8":
            entry = self.accepted_int8(files, runtime)
            if entry is not None:
                return classifier_from(runtime, entry, "int8", self.settings)
            precision = self.unquantized(runtime)
        return classifier_from(runtime, self.converted(files, runtime), precision, self.settings)

    def accepted_int8(self, files: ModelFiles, runtime: str) -> tuple[Path, dict] | None:
        fallback = f"{runtime} {self.unquantized(runtime)}"
        calibration = self.calibration()
        if calibration is None:
            logger.warning(
                "int8 needs frames from the cameras to calibrate on and none are in %s (run `python -m detection "
                "calibrate --config ...`); the %s model runs in %s", self.settings.calibration_dir, files.role, fallback,
            )
            return None
        directory, meta = self.quantized(files, runtime, calibration)
        held_out = meta["held_out"]
        gate = accuracy_gate(np.asarray(held_out["reference"]), np.asarray(held_out["int8"]),
                             threshold=self.threshold, tolerance=self.settings.int8_tolerance)
        if not gate.accepted:
            logger.warning("int8 %s model on %s refused by the accuracy gate: %s; running %s instead",
                           files.role, runtime, gate.describe(), fallback)
            return None
        logger.info("int8 %s model on %s passed the accuracy gate: %s", files.role, runtime, gate.describe())
        return directory, meta

    # The worker's models --------------------------------------------------------------------------

    def violence_classifier(self, files: ModelFiles) -> tuple[ViTClassifier, Choice]:
        settings = self.settings
        if settings.runtime == "torch" or (settings.runtime == "auto" and self.wants_cuda()):
            placement = resolve_placement(settings)
            return self.torch_classifier(files, placement), Choice("torch", placement.precision, placement.reason)
        if settings.runtime != "auto" and settings.precision != "auto":
            if not installed(settings.runtime):
                raise ModelError(f"inference.runtime is {settings.runtime} but the {settings.runtime} package is not "
                                 f"installed (pip install -r requirements-detection-runtime.txt)")
            classifier = self.converted_classifier(files, settings.runtime, settings.precision)
            precision = classifier.runtime.precision
            return classifier, Choice(settings.runtime, precision, "configured" if precision == settings.precision
                                      else f"{settings.precision} configured but not usable (see above)")
        return AutoChooser(self).choose(files)

    def gender_classifier(self, files: ModelFiles, choice: Choice) -> ViTClassifier:
        """The census runs only on events, so it takes the violence model's runtime, unquantized on converted ones."""
        if choice.runtime == "torch":
            return self.torch_classifier(files, self.placement(choice.precision))
        precision = self.unquantized(choice.runtime) if choice.precision == "int8" else choice.precision
        return self.converted_classifier(files, choice.runtime, precision)


def preprocess_from(meta: dict) -> Preprocess:
    p = meta["preprocess"]
    return Preprocess(int(p["height"]), int(p["width"]), tuple(p["mean"]), tuple(p["std"]))  # type: ignore[arg-type]


def runtime_for(runtime: str, directory: Path, precision: str, settings: InferenceSettings):
    """A converted model's runtime with the configured threads (and, on OpenVINO, streams)."""
    if runtime == "openvino":
        return openvino_runtime.OpenVINORuntime(directory, precision, settings.threads, settings.streams)
    return RUNTIME_CLASSES[runtime](directory, precision, settings.threads)


def classifier_from(runtime: str, entry: tuple[Path, dict], precision: str, settings: InferenceSettings) -> ViTClassifier:
    directory, meta = entry
    return ViTClassifier(runtime_for(runtime, directory, precision, settings), meta["labels"], preprocess_from(meta))


# Measuring the candidates -----------------------------------------------------------------------------


@dataclass
class Measured:
    runtime: str
    precision: str
    images_per_s: float = 0.0
    max_delta: float | None = None
    flips: int | None = None
    accepted: bool = False
    note: str = ""


class AutoChooser:
    """Times every runtime and precision this machine can run on a few frames, and picks the fastest accurate one."""

    ROUNDS = 3

    def __init__(self, builder: ModelBuilder):
        self.builder = builder
        self.settings = builder.settings
        self.built: dict[tuple[str, str], ViTClassifier] = {}

    def candidates(self) -> list[tuple[str, str]]:
        settings, bf16, calibrated = self.settings, cpu_native_bf16(), self.builder.calibration() is not None
        precisions = {
            "torch": ["fp32", *(["bf16"] if bf16 else []), *([] if int8_unavailable_safe() else ["int8"])],
            "openvino": ["fp32", *(["bf16"] if bf16 else []), *(["int8"] if calibrated else [])],
            "onnxruntime": ["fp32", *(["int8"] if calibrated else [])],
        }
        runtimes = [settings.runtime] if settings.runtime != "auto" else ["torch", "openvino", "onnxruntime"]
        out = []
        for runtime in runtimes:
            if not installed(runtime):
                continue
            wanted = precisions[runtime] if settings.precision == "auto" else [settings.precision]
            out.extend((runtime, precision) for precision in wanted if precision in precisions[runtime])
        return out

    def cache_path(self, files: ModelFiles, candidates: list[tuple[str, str]]) -> Path:
        calibration = self.builder.calibration()
        versions = {r: CONVERTED[r].version() for r in CONVERTED if installed(r)}
        if installed("torch"):
            import torch

            versions["torch"] = torch.__version__
        facts = {
            "model": files.fingerprint, "cpu": platform.processor() or platform.machine(), "flags": sorted(_cpu_flags()),
            "cpu_model": _cpu_model(), "versions": versions, "batch": self.settings.batch_size,
            "threads": self.settings.threads, "streams": self.settings.streams,
            "calibration": calibration.fingerprint if calibration else None,
            "candidates": candidates, "tolerance": self.settings.int8_tolerance, "threshold": self.builder.threshold,
        }
        digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:20]
        return self.builder.cache.root / f"auto-{digest}.json"

    def choose(self, files: ModelFiles) -> tuple[ViTClassifier, Choice]:
        candidates = self.candidates()
        if not candidates:
            raise ModelError("no runtime can run the models here: install openvino (requirements-detection-runtime.txt)")
        path = self.cache_path(files, candidates)
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            table = [Measured(**row) for row in saved["table"]]
            logger.info("runtime auto: using the choice measured on %s (%s)", saved["measured"], path.name)
        except (OSError, ValueError, KeyError, TypeError):
            table = self.measure(files, candidates)
            self.builder.cache.root.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"measured": time.strftime("%Y-%m-%d %H:%M:%S"),
                                        "table": [asdict(row) for row in table]}, indent=2), encoding="utf-8")
        log_table(table)
        best = max((row for row in table if row.accepted), key=lambda row: row.images_per_s, default=None)
        if best is None:
            raise ModelError("runtime auto: no candidate could run the violence model accurately (see the table above)")
        # Measured just now: the candidate is still built (and int8 torch models take long to quantize again).
        classifier = self.built.get((best.runtime, best.precision)) or self.build(files, best.runtime, best.precision)
        self.built.clear()
        reason = f"auto, fastest of {len(table)} measured on this machine ({best.images_per_s:.1f} img/s)"
        logger.info("inference on cpu with %s in %s: %s", best.runtime, best.precision, reason)
        return classifier, Choice(best.runtime, best.precision, reason)

    def build(self, files: ModelFiles, runtime: str, precision: str) -> ViTClassifier:
        if runtime == "torch":
            return self.builder.torch_classifier(files, self.builder.placement(precision))
        return self.builder.converted_classifier(files, runtime, precision)

    def frames(self) -> list[np.ndarray]:
        """Two batches: held-out camera frames when there are some, else synthetic ones of the right kind."""
        count = 2 * self.settings.batch_size
        calibration = self.builder.calibration()
        frames = calibration.images(calibration.held_out[:count]) if calibration else []
        return frames if frames else synthetic_frames(count, seed=5)

    def measure(self, files: ModelFiles, candidates: list[tuple[str, str]]) -> list[Measured]:
        table, built = [], []
        for runtime, precision in candidates:
            row = Measured(runtime, precision)
            table.append(row)
            try:
                classifier = self.build(files, runtime, precision)
            except ModelError as exc:
                row.note = str(exc)[:200]
                continue
            if classifier.runtime.precision != precision:
                row.note = f"runs as {classifier.runtime.precision} here (see above)"
                continue
            built.append((row, classifier))
        if not built:
            return table
        self.built = {(row.runtime, row.precision): classifier for row, classifier in built}
        frames = self.frames()
        pixels = built[0][1].preprocess(frames)
        reference = self._reference(files, built, frames)
        batch = self.settings.batch_size
        batches = [pixels[i:i + batch] for i in range(0, len(pixels), batch)]
        for row, classifier in built:
            classifier.runtime.infer(batches[0])  # first-call set-up is not steady state
            scores = classifier.scores(frames, "violence")
            gate = accuracy_gate(reference, scores, threshold=self.builder.threshold,
                                 tolerance=self.settings.int8_tolerance)
            row.max_delta, row.flips, row.accepted = gate.max_delta, gate.flips, gate.accepted
        # Alternating rounds, best of each: a burst of other work on the machine slows one round, not one candidate.
        for _ in range(self.ROUNDS):
            for row, classifier in built:
                started = time.perf_counter()
                for chunk in batches:
                    classifier.runtime.infer(chunk)
                row.images_per_s = max(row.images_per_s, len(pixels) / (time.perf_counter() - started))
        return table

    def _reference(self, files: ModelFiles, built: list[tuple[Measured, ViTClassifier]], frames) -> np.ndarray:
        """fp32 probabilities: PyTorch's when torch is here (the source of truth), else a converted fp32 model's."""
        order = ("torch", "openvino", "onnxruntime")
        for runtime in order:
            for row, classifier in built:
                if row.runtime == runtime and row.precision == "fp32":
                    return classifier.scores(frames, "violence")
        for runtime in (r for r in order if installed(r)):
            return self.build(files, runtime, "fp32").scores(frames, "violence")
        raise ModelError("runtime auto: no fp32 model to check the candidates against")


def int8_unavailable_safe() -> str | None:
    return int8_unavailable() if installed("torch") else "torch is not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def log_table(table: list[Measured]) -> None:
    logger.info("runtime auto: %-12s %-6s %9s %10s %6s  %s", "runtime", "prec.", "img/s", "max delta", "flips", "")
    for row in table:
        delta = "-" if row.max_delta is None else f"{row.max_delta:.4f}"
        flips = "-" if row.flips is None else str(row.flips)
        verdict = "ok" if row.accepted else f"not used {row.note}".strip()
        logger.info("runtime auto: %-12s %-6s %9.1f %10s %6s  %s", row.runtime, row.precision, row.images_per_s,
                    delta, flips, verdict)


def load_models(config: DetectorConfig) -> LoadedModels:
    """The violence and gender classifiers and the person detector, as the configuration asks, on this machine."""
    from detection.persons import make_person_detector

    builder = ModelBuilder(config.inference, config.decision.threshold, config.models.cache_dir)
    violence, choice = builder.violence_classifier(builder.open("violence", config.models.violence))
    gender = builder.gender_classifier(builder.open("gender", config.models.gender), choice)
    models = config.models

    def placement():
        return builder.placement(choice.precision if choice.runtime == "torch" else "fp32")

    detector = make_person_detector(models.person_detector, models.person_model, placement, models.cache_dir)
    logger.info("violence model on %s; gender model on %s", violence.runtime.describe(), gender.runtime.describe())
    return LoadedModels(violence, gender, detector, choice)
