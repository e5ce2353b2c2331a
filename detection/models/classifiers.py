"""The classifiers: batch preprocessing, and the violence and gender ViTs loaded exactly and run on a Runtime."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from detection.models.errors import ModelLoadError
from detection.models.loading import load_exact, load_pretrained_exact, read_json, read_state_dict, resolve_model_dir
from detection.models.runtime import Placement, Runtime, TorchRuntime
from detection.models.timm import VIOLENCE_LABELS, is_timm_layout, timm_to_transformers, violence_config_from_timm

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preprocess:
    """ViTImageProcessor's resize, rescale and normalise, done on the whole batch with OpenCV and NumPy."""

    height: int = 224
    width: int = 224
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)

    @classmethod
    def from_model_dir(cls, directory: Path, default_size: int) -> Preprocess:
        declared = read_json(directory / "preprocessor_config.json")
        size = declared.get("size", default_size)
        if isinstance(size, dict):
            height = size.get("height", size.get("shortest_edge", default_size))
            width = size.get("width", size.get("shortest_edge", default_size))
        else:
            height = width = int(size)
        mean = tuple(declared.get("image_mean", cls.mean))
        std = tuple(declared.get("image_std", cls.std))
        return cls(int(height), int(width), mean, std)  # type: ignore[arg-type]

    def __call__(self, images_bgr: Sequence[np.ndarray]) -> np.ndarray:
        """Pixels as float32 (N, 3, height, width), RGB, normalised."""
        resized = np.stack([self._resize(image) for image in images_bgr])
        std = np.asarray(self.std, dtype=np.float32)
        scale, offset = 1.0 / (255.0 * std), -np.asarray(self.mean, dtype=np.float32) / std
        pixels = np.empty((len(resized), 3, self.height, self.width), dtype=np.float32)
        # One plane at a time, written straight into its place in the batch: BGR to RGB, rescale, normalise and the
        # channels-first layout in two passes over the pixels, instead of building three float temporaries of the
        # whole batch (about ten times faster, the same values).
        for channel in range(3):
            plane = pixels[:, channel]
            np.multiply(resized[..., 2 - channel], scale[channel], out=plane, dtype=np.float32)
            plane += offset[channel]
        return pixels

    def _resize(self, image: np.ndarray) -> np.ndarray:
        # INTER_AREA when shrinking approximates the antialiased bilinear resize of the transformers processor.
        shrinking = image.shape[0] > self.height or image.shape[1] > self.width
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        return cv2.resize(image, (self.width, self.height), interpolation=interpolation)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (shifted / shifted.sum(axis=-1, keepdims=True)).astype(np.float32)


class Classifier(ABC):
    labels: tuple[str, ...]

    @abstractmethod
    def predict(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Class probabilities, shape (len(images), len(labels)), for BGR uint8 images of any size."""

    def scores(self, images: Sequence[np.ndarray], label: str) -> np.ndarray:
        """The probability of one label for each image."""
        return self.predict(images)[:, self.labels.index(label)] if images else np.zeros(0, dtype=np.float32)


class ViTClassifier(Classifier):
    """Preprocessing on the whole batch, then the runtime, then a softmax."""

    def __init__(self, runtime: Runtime, labels: Sequence[str], preprocess: Preprocess):
        self.runtime = runtime
        self.labels = tuple(labels)
        self.preprocess = preprocess

    def predict(self, images: Sequence[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return softmax(self.runtime.infer(self.preprocess(images)))


# The violence model ------------------------------------------------------------------------------


def load_violence_model(directory: Path) -> torch.nn.Module:
    """The violence ViT with every weight from the checkpoint in directory (timm or transformers names)."""
    import torch
    from transformers import ViTForImageClassification

    declared = read_json(directory / "config.json")
    state = read_state_dict(directory)
    if not is_timm_layout(state):
        return _load_transformers_violence(directory, declared)
    config = violence_config_from_timm(state, declared)
    # Building on the meta device allocates nothing and initialises nothing, so a parameter the
    # checkpoint does not provide cannot silently keep random values: load_exact refuses it.
    with torch.device("meta"):
        model = ViTForImageClassification(config)
    return load_exact(model, timm_to_transformers(state, set(model.state_dict())), role="violence model")


def _load_transformers_violence(directory: Path, declared: dict):
    """The same model already converted to transformers names (labels are still fixed: 0 non-violence, 1 violence)."""
    from transformers import ViTConfig, ViTForImageClassification

    known = {k: v for k, v in declared.items() if k in ViTConfig().to_dict() and not k.endswith(("id2label", "label2id"))}
    known.pop("model_type", None)
    config = ViTConfig(
        **{**known, "num_labels": 2},
        id2label=dict(enumerate(VIOLENCE_LABELS)),
        label2id={label: i for i, label in enumerate(VIOLENCE_LABELS)},
    )
    return load_pretrained_exact(ViTForImageClassification, directory, role="violence model", config=config)


def load_violence_classifier(source: str, placement: Placement, cache_dir: str | None = None) -> ViTClassifier:
    directory = resolve_model_dir(source, role="violence model", setting="violence", cache_dir=cache_dir)
    model = load_violence_model(directory)
    logger.info(
        "violence model loaded from %s (%d layers, %s)", directory, model.config.num_hidden_layers, placement.describe()
    )
    preprocess = Preprocess.from_model_dir(directory, model.config.image_size)
    return ViTClassifier(TorchRuntime(model, placement), VIOLENCE_LABELS, preprocess)


# The gender model --------------------------------------------------------------------------------


def load_gender_model(directory: Path) -> tuple[torch.nn.Module, list[str]]:
    from transformers import AutoModelForImageClassification

    model = load_pretrained_exact(AutoModelForImageClassification, directory, role="gender model")
    labels = [str(model.config.id2label[i]).lower() for i in range(model.config.num_labels)]
    if not {"female", "male"} <= set(labels):
        raise ModelLoadError(f"gender model in {directory} has labels {labels}; expected female and male")
    return model, labels


def load_gender_classifier(source: str, placement: Placement, cache_dir: str | None = None) -> ViTClassifier:
    directory = resolve_model_dir(source, role="gender model", setting="gender", cache_dir=cache_dir)
    model, labels = load_gender_model(directory)
    logger.info("gender model loaded from %s (%s)", directory, placement.describe())
    preprocess = Preprocess.from_model_dir(directory, getattr(model.config, "image_size", 224))
    return ViTClassifier(TorchRuntime(model, placement), labels, preprocess)
