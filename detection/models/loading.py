"""Finding a model's directory (local or in the Hugging Face cache) and loading its weights exactly, or not at all."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from detection.models.errors import ModelLoadError, ModelNotFoundError

if TYPE_CHECKING:
    import torch

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
HUB_PATTERNS = ["*.json", "model.safetensors", "pytorch_model.bin"]


def read_json(path: Path) -> dict:
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


def weights_file(directory: Path) -> Path:
    for name in WEIGHT_FILES:
        if (directory / name).is_file():
            return directory / name
    raise ModelLoadError(f"{directory} holds no weights: expected one of {', '.join(WEIGHT_FILES)}.")


def read_state_dict(directory: Path) -> dict[str, torch.Tensor]:
    path = weights_file(directory)
    if path.name.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(str(path))
    import torch

    # weights_only refuses arbitrary pickled code; the checkpoint is a plain OrderedDict of tensors.
    return torch.load(path, map_location="cpu", weights_only=True)


def load_exact(model: torch.nn.Module, state: dict[str, torch.Tensor], *, role: str) -> torch.nn.Module:
    """Load every parameter of a meta-device model from state, or fail: no parameter may keep an initial value."""
    import torch

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


def load_pretrained_exact(model_class, directory: Path, *, role: str, **kwargs) -> torch.nn.Module:
    """from_pretrained that refuses to start when any weight is missing, unexpected or mis-shaped."""
    import torch

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
