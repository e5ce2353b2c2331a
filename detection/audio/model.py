"""The audio model: a transformers audio classifier (AST on AudioSet by default), loaded exactly, scored in batches.

This is the only module of detection/audio that imports the shared loading and runtime helpers of the video models.
"""

from __future__ import annotations

import logging
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from detection.audio.capture import SAMPLE_RATE
from detection.models.errors import ModelError, ModelLoadError, ModelNotFoundError
from detection.models.loading import load_pretrained_exact, resolve_model_dir
from detection.models.runtime import Placement as Runtime  # where and in which precision PyTorch runs
from detection.models.runtime import resolve_placement as resolve_runtime

__all__ = [
    "ASTClassifier", "AudioClassifier", "ModelError", "ModelLoadError", "Runtime", "load_audio_classifier",
    "resolve_runtime",
]

logger = logging.getLogger(__name__)

# Models whose feature extractor does not say how much audio it looks at get this much.
DEFAULT_CONTEXT_S = 10.0


class AudioClassifier(ABC):
    """Scores windows of 16 kHz mono audio for the watched classes."""

    classes: tuple[str, ...]
    context_samples: int

    @abstractmethod
    def scores(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        """Shape (len(windows), len(classes)): each watched class's probability for each window."""


class ASTClassifier(AudioClassifier):
    def __init__(self, model: torch.nn.Module, feature_extractor, classes: Sequence[str], runtime: Runtime,
                 activation: str = "sigmoid"):
        labels = [str(model.config.id2label[i]) for i in range(model.config.num_labels)]
        unknown = [name for name in classes if name not in labels]
        if unknown:
            raise ModelLoadError(
                f"audio model has no class {', '.join(map(repr, unknown))} (audio.classes); its labels include "
                f"{', '.join(labels[:12])}{' ...' if len(labels) > 12 else ''}"
            )
        # The loader hands over only a model whose every weight was checked, so int8 never freezes initial values.
        self.model = runtime.prepare(model)
        self.feature_extractor = feature_extractor
        self.runtime = runtime
        self.labels = tuple(labels)
        self.classes = tuple(classes)
        self.activation = activation
        self._indices = torch.tensor([labels.index(name) for name in classes])
        frames = getattr(feature_extractor, "max_length", None)
        # Kaldi fbank frames are 25 ms every 10 ms: this many samples yield exactly max_length frames.
        self.context_samples = (frames - 1) * 160 + 400 if frames else int(DEFAULT_CONTEXT_S * SAMPLE_RATE)

    def probabilities(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        """Every label's probability, shape (len(windows), num_labels)."""
        if not windows:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        inputs = self.feature_extractor(list(windows), sampling_rate=SAMPLE_RATE, return_tensors="pt")
        inputs = {name: tensor.to(self.runtime.device) for name, tensor in inputs.items()}
        with torch.inference_mode(), self.runtime.autocast():
            logits = self.model(**inputs).logits.float()
        # AudioSet is multi-label (a scream and speech at once): each class gets its own sigmoid.
        probabilities = torch.sigmoid(logits) if self.activation == "sigmoid" else torch.softmax(logits, dim=-1)
        return probabilities.cpu().numpy()

    def scores(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        return self.probabilities(windows)[:, self._indices.numpy()] if windows else np.zeros((0, len(self.classes)))


def load_audio_classifier(
    source: str, classes: Sequence[str], runtime: Runtime, cache_dir: str | None = None, activation: str = "sigmoid"
) -> ASTClassifier:
    """Every weight from the checkpoint or a ModelError; the feature extractor from the same directory."""
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    try:
        directory = resolve_model_dir(source, role="audio model", setting="audio", cache_dir=cache_dir)
    except ModelNotFoundError as exc:
        raise ModelNotFoundError(str(exc).replace("models.audio", "audio.model")) from exc
    if not (Path(directory) / "preprocessor_config.json").is_file():
        raise ModelLoadError(f"audio model in {directory} has no preprocessor_config.json (its feature extractor)")
    model = load_pretrained_exact(AutoModelForAudioClassification, Path(directory), role="audio model")
    with warnings.catch_warnings():
        # The AudioSet extractor's 128 Kaldi mel bins leave one filter empty at 16 kHz; it is the model's own setting.
        warnings.filterwarnings("ignore", message="At least one mel filter has all zero values")
        feature_extractor = AutoFeatureExtractor.from_pretrained(str(directory), local_files_only=True)
    classifier = ASTClassifier(model, feature_extractor, classes, runtime, activation)
    logger.info(
        "audio model loaded from %s (%d labels, %.2f s windows, %s)",
        directory, len(classifier.labels), classifier.context_samples / SAMPLE_RATE, runtime.describe(),
    )
    return classifier
