"""Classifiers: load the violence (timm-layout) and gender (transformers) ViT models exactly, and run them in batches."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from detection.config import InferenceSettings

logger = logging.getLogger(__name__)

VIOLENCE_LABELS = ("non-violence", "violence")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
HUB_PATTERNS = ["*.json", "model.safetensors", "pytorch_model.bin"]
# timm builds every LayerNorm of its ViTs with this epsilon; transformers' ViT default (1e-12) would shift the outputs.
TIMM_LAYER_NORM_EPS = 1e-6


class ModelError(Exception):
    """A model could not be used; the message names the model and what to do about it."""


class ModelNotFoundError(ModelError):
    pass


class ModelLoadError(ModelError):
    pass


# Runtime -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Runtime:
    """Where and in which precision the models run, and why that precision was chosen."""

    device: torch.device
    autocast_dtype: torch.dtype | None = None
    int8: bool = False
    reason: str = ""

    @property
    def precision(self) -> str:
        return "int8" if self.int8 else "bf16" if self.autocast_dtype is not None else "fp32"

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def prepare(self, model: torch.nn.Module) -> torch.nn.Module:
        """The model on this runtime's device, in eval mode, its Linear layers quantized to int8 when asked."""
        model = model.to(self.device).eval()
        return quantize_linear_int8(model) if self.int8 else model

    def describe(self) -> str:
        precision = {"int8": "int8 dynamic quantization of Linear layers", "bf16": "bf16 autocast"}.get(
            self.precision, "fp32"
        )
        return f"{self.device.type}, {precision}, {torch.get_num_threads()} CPU threads"


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def native_bf16(device: torch.device) -> bool:
    """True where bf16 matmuls run in hardware; elsewhere bf16 autocast is emulated and many times slower than fp32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool({"avx512_bf16", "amx_bf16"} & _cpu_flags())


def int8_unavailable() -> str | None:
    """Why this torch cannot run dynamically quantized Linear layers on the CPU, or None when it can."""
    quantization = getattr(getattr(torch, "ao", None), "quantization", None)
    if not hasattr(quantization, "quantize_dynamic"):
        return f"torch {torch.__version__} has no torch.ao.quantization.quantize_dynamic"
    if torch.backends.quantized.engine == "none":
        return f"torch {torch.__version__} has no quantized CPU engine"
    return None


def quantize_linear_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Replace every nn.Linear with a dynamically quantized int8 one (weights int8 per tensor, activations per batch).

    Quantizing freezes whatever the weights are, so it is only ever applied to a fully loaded model: tensors still
    on the meta device mean the load was not verified, and are refused rather than quantized.
    """
    on_meta = [name for name, tensor in [*model.named_parameters(), *model.named_buffers()] if tensor.is_meta]
    if on_meta:
        raise ModelLoadError(f"refusing to quantize a model whose weights were not loaded: {', '.join(on_meta[:6])}")
    if any(p.device.type != "cpu" for p in model.parameters()):
        raise ModelError("int8 dynamic quantization runs on the CPU only")
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated upstream in favour of torchao, yet it is still the built-in path and
        # works in the pinned torch; its deprecation notices would only repeat at every start-up.
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor.* are deprecated", category=UserWarning)
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def resolve_runtime(settings: InferenceSettings) -> Runtime:
    if settings.threads:
        torch.set_num_threads(settings.threads)
    if settings.device == "cuda" and not torch.cuda.is_available():
        raise ModelError("inference.device is cuda but PyTorch sees no CUDA device (is the CUDA build of torch installed?)")
    use_cuda = settings.device == "cuda" or (settings.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if use_cuda else "cpu")
    runtime = _choose_precision(settings.precision, device)
    logger.info("inference on %s in %s: %s", device.type, runtime.precision, runtime.reason)
    return runtime


def _choose_precision(precision: str, device: torch.device) -> Runtime:
    native = native_bf16(device)
    if precision == "fp32":
        return Runtime(device, reason="precision fp32 configured")
    if precision == "bf16":
        if not native:
            logger.warning("bf16 requested but %s has no native bf16: expect it to be slower than fp32", device.type)
        return Runtime(device, torch.bfloat16, reason="precision bf16 configured")
    if precision == "int8":
        if device.type != "cpu":
            raise ModelError(
                "inference.precision int8 runs on the CPU only but the models would run on CUDA; "
                "use precision auto or bf16 there, or set inference.device to cpu"
            )
        if problem := int8_unavailable():
            raise ModelError(f"inference.precision int8 cannot be used: {problem}; use fp32 or auto")
        return Runtime(device, int8=True, reason="precision int8 configured")
    if native:
        where = "the GPU" if device.type == "cuda" else "the CPU (avx512_bf16/AMX)"
        return Runtime(device, torch.bfloat16, reason=f"auto, {where} has native bf16")
    if device.type == "cuda":
        return Runtime(device, reason="auto, the GPU has no native bf16")
    if problem := int8_unavailable():
        return Runtime(device, reason=f"auto, the CPU has no native bf16 and {problem}")
    return Runtime(
        device, int8=True,
        reason="auto, the CPU has no native bf16 (emulated bf16 is slower than fp32), so int8 Linear layers are fastest",
    )


# Preprocessing and inference ---------------------------------------------------------------------


@dataclass(frozen=True)
class Preprocess:
    """ViTImageProcessor's resize, rescale and normalise, done on the whole batch with OpenCV and NumPy."""

    height: int = 224
    width: int = 224
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)

    @classmethod
    def from_model_dir(cls, directory: Path, default_size: int) -> Preprocess:
        declared = _read_json(directory / "preprocessor_config.json")
        size = declared.get("size", default_size)
        if isinstance(size, dict):
            height = size.get("height", size.get("shortest_edge", default_size))
            width = size.get("width", size.get("shortest_edge", default_size))
        else:
            height = width = int(size)
        mean = tuple(declared.get("image_mean", cls.mean))
        std = tuple(declared.get("image_std", cls.std))
        return cls(int(height), int(width), mean, std)  # type: ignore[arg-type]

    def __call__(self, images_bgr: Sequence[np.ndarray]) -> torch.Tensor:
        batch = np.stack([self._resize(image) for image in images_bgr])[..., ::-1]  # BGR to RGB
        scale = 1.0 / (255.0 * np.asarray(self.std, dtype=np.float32))
        offset = -np.asarray(self.mean, dtype=np.float32) / np.asarray(self.std, dtype=np.float32)
        pixels = batch.astype(np.float32) * scale + offset
        return torch.from_numpy(np.ascontiguousarray(pixels.transpose(0, 3, 1, 2)))

    def _resize(self, image: np.ndarray) -> np.ndarray:
        # INTER_AREA when shrinking approximates the antialiased bilinear resize of the transformers processor.
        shrinking = image.shape[0] > self.height or image.shape[1] > self.width
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        return cv2.resize(image, (self.width, self.height), interpolation=interpolation)


class Classifier(ABC):
    labels: tuple[str, ...]

    @abstractmethod
    def predict(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Class probabilities, shape (len(images), len(labels)), for BGR uint8 images of any size."""

    def scores(self, images: Sequence[np.ndarray], label: str) -> np.ndarray:
        """The probability of one label for each image."""
        return self.predict(images)[:, self.labels.index(label)] if images else np.zeros(0, dtype=np.float32)


class ViTClassifier(Classifier):
    def __init__(self, model: torch.nn.Module, labels: Sequence[str], preprocess: Preprocess, runtime: Runtime):
        # The loaders build a classifier only from a model whose every weight was checked, so int8 quantization
        # (in prepare) never freezes initial values.
        self.model = runtime.prepare(model)
        self.labels = tuple(labels)
        self.preprocess = preprocess
        self.runtime = runtime

    def predict(self, images: Sequence[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        pixels = self.preprocess(images).to(self.runtime.device)
        with torch.inference_mode(), self.runtime.autocast():
            logits = self.model(pixel_values=pixels).logits
        return torch.softmax(logits.float(), dim=-1).cpu().numpy()


# Finding models ----------------------------------------------------------------------------------


def _read_json(path: Path) -> dict:
    # The violence repository once shipped a zero-byte config.json; an empty file means "nothing declared".
    if not path.is_file() or path.stat().st_size == 0:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelLoadError(f"{path} is not valid JSON: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _looks_like_path(source: str) -> bool:
    return source.startswith((".", "/", "~")) or "\\" in source or source.count("/") > 1


def hub_offline() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) as set now, not only when huggingface_hub was first imported."""
    from huggingface_hub import constants

    flag = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return flag.strip().upper() in {"1", "ON", "YES", "TRUE"} or constants.is_offline_mode()


def resolve_model_dir(source: str, *, role: str, setting: str, cache_dir: str | None = None) -> Path:
    """A local directory as is; a hub id through the Hugging Face cache (downloading unless HF_HUB_OFFLINE is set)."""
    path = Path(source).expanduser()
    if path.is_dir():
        return path
    if _looks_like_path(source):
        raise ModelNotFoundError(f"{role}: directory {source} does not exist (models.{setting}).")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(
            repo_id=source, cache_dir=cache_dir, allow_patterns=HUB_PATTERNS, local_files_only=hub_offline()
        ))
    except Exception as exc:  # offline, not cached, no network, unknown repo: for the operator it is all one fix
        raise ModelNotFoundError(
            f"{role} {source!r} is not a local directory and could not be found in the Hugging Face cache"
            f"{f' at {cache_dir}' if cache_dir else ''} or downloaded ({type(exc).__name__}: {exc}). "
            f"On a machine with internet access run `hf download {source}` (older hubs: `huggingface-cli download "
            f"{source}`) and copy the cache here, or set models.{setting} to a directory holding config.json and "
            f"the weights."
        ) from exc


def read_state_dict(directory: Path) -> dict[str, torch.Tensor]:
    for name in WEIGHT_FILES:
        path = directory / name
        if not path.is_file():
            continue
        if name.endswith(".safetensors"):
            from safetensors.torch import load_file

            return load_file(str(path))
        # weights_only refuses arbitrary pickled code; the checkpoint is a plain OrderedDict of tensors.
        return torch.load(path, map_location="cpu", weights_only=True)
    raise ModelLoadError(f"{directory} holds no weights: expected one of {', '.join(WEIGHT_FILES)}.")


# The violence model: timm weights into transformers' ViT ----------------------------------------

_TIMM_TOP_LEVEL = {
    "cls_token": "vit.embeddings.cls_token",
    "pos_embed": "vit.embeddings.position_embeddings",
    "patch_embed.proj.weight": "vit.embeddings.patch_embeddings.projection.weight",
    "patch_embed.proj.bias": "vit.embeddings.patch_embeddings.projection.bias",
    "norm.weight": "vit.layernorm.weight",
    "norm.bias": "vit.layernorm.bias",
    "head.weight": "classifier.weight",
    "head.bias": "classifier.bias",
}
# transformers renamed ViT's internals during 5.x, so both spellings are known and the installed one is used.
_TRANSFORMERS_BLOCK_LAYOUTS = (
    (
        "vit.layers.{i}.",
        {
            "norm1": "layernorm_before", "norm2": "layernorm_after", "attn.proj": "attention.o_proj",
            "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2",
            "q": "attention.q_proj", "k": "attention.k_proj", "v": "attention.v_proj",
        },
    ),
    (
        "vit.encoder.layer.{i}.",
        {
            "norm1": "layernorm_before", "norm2": "layernorm_after", "attn.proj": "attention.output.dense",
            "mlp.fc1": "intermediate.dense", "mlp.fc2": "output.dense",
            "q": "attention.attention.query", "k": "attention.attention.key", "v": "attention.attention.value",
        },
    ),
)
_TIMM_BLOCK_KEY = re.compile(r"blocks\.(\d+)\.(.+)\.(weight|bias)")


def is_timm_layout(state: dict[str, torch.Tensor]) -> bool:
    return "patch_embed.proj.weight" in state and any(key.startswith("blocks.") for key in state)


def timm_to_transformers(state: dict[str, torch.Tensor], target_keys: set[str]) -> dict[str, torch.Tensor]:
    """Rename (and split qkv of) a timm ViT state dict into ViTForImageClassification's names.

    Keys that have no counterpart keep their timm name, so the exactness check reports them as unexpected.
    """
    for prefix, names in _TRANSFORMERS_BLOCK_LAYOUTS:
        if f"{prefix.format(i=0)}{names['q']}.weight" in target_keys:
            break
    else:
        raise ModelLoadError("the installed transformers ViT uses parameter names this loader does not know")
    mapped: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        mapped.update(_map_timm_key(key, tensor, prefix, names))
    return mapped


def _map_timm_key(key: str, tensor: torch.Tensor, prefix: str, names: dict[str, str]) -> dict[str, torch.Tensor]:
    if key in _TIMM_TOP_LEVEL:
        return {_TIMM_TOP_LEVEL[key]: tensor}
    match = _TIMM_BLOCK_KEY.fullmatch(key)
    if match is None:
        return {key: tensor}
    index, module, kind = match.groups()
    base = prefix.format(i=index)
    if module == "attn.qkv":
        # timm computes q, k and v with one fused projection whose output rows are [q; k; v].
        return {f"{base}{names[part]}.{kind}": chunk for part, chunk in zip("qkv", tensor.chunk(3, dim=0))}
    if module in names:
        return {f"{base}{names[module]}.{kind}": tensor}
    return {key: tensor}


def violence_config_from_timm(state: dict[str, torch.Tensor], declared: dict):
    """The ViT architecture read off the weights themselves; config.json only supplies the head count."""
    from transformers import ViTConfig

    try:
        hidden = state["cls_token"].shape[-1]
        patch = state["patch_embed.proj.weight"]
        tokens = state["pos_embed"].shape[1] - 1
        intermediate = state["blocks.0.mlp.fc1.weight"].shape[0]
        classes = state["head.weight"].shape[0]
    except KeyError as exc:
        raise ModelLoadError(f"the violence weights lack {exc}: not a timm ViT classification checkpoint") from exc
    side = math.isqrt(tokens)
    if side * side != tokens:
        raise ModelLoadError(f"the violence weights' position embedding ({tokens} patches) is not a square grid")
    if classes != len(VIOLENCE_LABELS):
        raise ModelLoadError(f"the violence model has {classes} classes; expected 2 (0 = non-violence, 1 = violence)")
    config = ViTConfig(
        hidden_size=hidden,
        num_hidden_layers=1 + max(int(m.group(1)) for k in state if (m := _TIMM_BLOCK_KEY.fullmatch(k))),
        num_attention_heads=int(declared.get("num_attention_heads", max(1, hidden // 64))),
        intermediate_size=intermediate,
        image_size=side * patch.shape[-1],
        patch_size=patch.shape[-1],
        num_channels=patch.shape[1],
        qkv_bias="blocks.0.attn.qkv.bias" in state,
        hidden_act="gelu",
        layer_norm_eps=TIMM_LAYER_NORM_EPS,
        num_labels=2,
        id2label=dict(enumerate(VIOLENCE_LABELS)),
        label2id={label: i for i, label in enumerate(VIOLENCE_LABELS)},
    )
    _warn_on_disagreement(config, declared)
    return config


def _warn_on_disagreement(config, declared: dict) -> None:
    for name in ("hidden_size", "num_hidden_layers", "intermediate_size", "image_size", "patch_size"):
        if name in declared and declared[name] != getattr(config, name):
            logger.warning(
                "violence config.json says %s=%s but the weights have %s; using the weights",
                name, declared[name], getattr(config, name),
            )


def load_exact(model: torch.nn.Module, state: dict[str, torch.Tensor], *, role: str) -> torch.nn.Module:
    """Load every parameter of a meta-device model from state, or fail: no parameter may keep an initial value."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [
        f"{key} {tuple(state[key].shape)} != {tuple(value.shape)}"
        for key, value in expected.items()
        if key in state and state[key].shape != value.shape
    ]
    problems = [
        f"{label}: {', '.join(keys[:6])}{' ...' if len(keys) > 6 else ''}"
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
        if keys
    ]
    if problems:
        raise ModelLoadError(f"{role} weights do not match the architecture ({'; '.join(problems)})")
    model.load_state_dict({k: v.to(torch.float32) for k, v in state.items()}, strict=True, assign=True)
    on_meta = [name for name, tensor in [*model.named_parameters(), *model.named_buffers()] if tensor.is_meta]
    if on_meta:
        raise ModelLoadError(f"{role}: tensors left without weights: {', '.join(on_meta[:6])}")
    return model


def load_violence_classifier(source: str, runtime: Runtime, cache_dir: str | None = None) -> ViTClassifier:
    from transformers import ViTForImageClassification

    directory = resolve_model_dir(source, role="violence model", setting="violence", cache_dir=cache_dir)
    declared = _read_json(directory / "config.json")
    state = read_state_dict(directory)
    if is_timm_layout(state):
        config = violence_config_from_timm(state, declared)
        # Building on the meta device allocates nothing and initialises nothing, so a parameter the
        # checkpoint does not provide cannot silently keep random values: load_exact refuses it.
        with torch.device("meta"):
            model = ViTForImageClassification(config)
        model = load_exact(model, timm_to_transformers(state, set(model.state_dict())), role="violence model")
    else:
        model = _load_transformers_violence(directory, declared)
    logger.info("violence model loaded from %s (%d layers, %s)", directory, model.config.num_hidden_layers, runtime.describe())
    return ViTClassifier(model, VIOLENCE_LABELS, Preprocess.from_model_dir(directory, model.config.image_size), runtime)


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


# The gender model and other ordinary transformers checkpoints ------------------------------------


def load_pretrained_exact(model_class, directory: Path, *, role: str, **kwargs) -> torch.nn.Module:
    """from_pretrained that refuses to start when any weight is missing, unexpected or mis-shaped."""
    try:
        model, info = model_class.from_pretrained(
            str(directory), local_files_only=True, output_loading_info=True, dtype=torch.float32, **kwargs
        )
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"{role} in {directory} could not be loaded: {exc}") from exc
    problems = [
        f"{label}: {', '.join(sorted(map(str, keys))[:6])}"
        for label, keys in (
            ("missing", info.get("missing_keys")),
            ("unexpected", info.get("unexpected_keys")),
            ("wrong shape", info.get("mismatched_keys")),
        )
        if keys
    ]
    if problems:
        raise ModelLoadError(f"{role} weights do not match the architecture ({'; '.join(problems)})")
    return model.eval()


def load_gender_classifier(source: str, runtime: Runtime, cache_dir: str | None = None) -> ViTClassifier:
    from transformers import AutoModelForImageClassification

    directory = resolve_model_dir(source, role="gender model", setting="gender", cache_dir=cache_dir)
    model = load_pretrained_exact(AutoModelForImageClassification, directory, role="gender model")
    labels = [str(model.config.id2label[i]).lower() for i in range(model.config.num_labels)]
    if not {"female", "male"} <= set(labels):
        raise ModelLoadError(f"gender model in {directory} has labels {labels}; expected female and male")
    logger.info("gender model loaded from %s (%s)", directory, runtime.describe())
    image_size = getattr(model.config, "image_size", 224)
    return ViTClassifier(model, labels, Preprocess.from_model_dir(directory, image_size), runtime)
