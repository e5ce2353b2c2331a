"""The violence model's timm weights under transformers' ViT names, and its architecture read off the weights."""

from __future__ import annotations

import logging
import math
import re
from typing import TYPE_CHECKING

from detection.models.errors import ModelLoadError

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

VIOLENCE_LABELS = ("non-violence", "violence")
# timm builds every LayerNorm of its ViTs with this epsilon; transformers' ViT default (1e-12) would shift the outputs.
TIMM_LAYER_NORM_EPS = 1e-6

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
