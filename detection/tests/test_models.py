"""Model loading: the violence model's timm weights and the gender model's transformers weights load exactly, or not at all."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from detection.config import InferenceSettings
from detection.models import runtime as runtime_module
from detection.models.classifiers import Preprocess, load_gender_classifier, load_violence_classifier
from detection.models.errors import ModelError, ModelLoadError, ModelNotFoundError
from detection.models.runtime import Placement, quantize_linear_int8, resolve_placement
from detection.tests.factories import (
    TINY,
    gender_model,
    save_gender_checkpoint,
    save_violence_checkpoint,
    scene,
    timm_vit_state_dict,
)

CPU = Placement(torch.device("cpu"))
CPU_INT8 = Placement(torch.device("cpu"), int8=True)
QUANTIZED_LINEAR = torch.ao.nn.quantized.dynamic.Linear
HUB_ID = "jaranohaal/vit-base-violence-detection"


def images(count=3, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (48 + 8 * i, 64, 3), dtype=np.uint8) for i in range(count)]


def timm_reference_logits(state, pixels):
    """ViT as timm computes it, written out with plain tensor functions: fused qkv, LayerNorm eps 1e-6, CLS head."""
    hidden, heads = TINY["hidden"], TINY["heads"]
    x = F.conv2d(pixels, state["patch_embed.proj.weight"], state["patch_embed.proj.bias"], stride=TINY["patch"])
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([state["cls_token"].expand(len(x), -1, -1), x], dim=1) + state["pos_embed"]
    batch, tokens, _ = x.shape
    for i in range(TINY["depth"]):
        p = f"blocks.{i}."
        h = F.layer_norm(x, (hidden,), state[p + "norm1.weight"], state[p + "norm1.bias"], eps=1e-6)
        qkv = F.linear(h, state[p + "attn.qkv.weight"], state[p + "attn.qkv.bias"])
        q, k, v = qkv.reshape(batch, tokens, 3, heads, hidden // heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(batch, tokens, hidden)
        x = x + F.linear(attended, state[p + "attn.proj.weight"], state[p + "attn.proj.bias"])
        h = F.layer_norm(x, (hidden,), state[p + "norm2.weight"], state[p + "norm2.bias"], eps=1e-6)
        h = F.linear(F.gelu(F.linear(h, state[p + "mlp.fc1.weight"], state[p + "mlp.fc1.bias"])),
                     state[p + "mlp.fc2.weight"], state[p + "mlp.fc2.bias"])
        x = x + h
    x = F.layer_norm(x, (hidden,), state["norm.weight"], state["norm.bias"], eps=1e-6)
    return F.linear(x[:, 0], state["head.weight"], state["head.bias"])


# The violence model ------------------------------------------------------------------------------


def test_timm_weights_in_pytorch_model_bin_become_exactly_the_transformers_parameters(tmp_path):
    state = timm_vit_state_dict()
    classifier = load_violence_classifier(str(save_violence_checkpoint(tmp_path / "v", state)), CPU)
    params = dict(classifier.runtime.model.named_parameters())
    hidden = TINY["hidden"]
    assert torch.equal(params["vit.embeddings.cls_token"], state["cls_token"])
    assert torch.equal(params["vit.embeddings.position_embeddings"], state["pos_embed"])
    attention = next(n for n in params if n.endswith(("attention.q_proj.weight", "attention.attention.query.weight")))
    assert torch.equal(params[attention], state["blocks.0.attn.qkv.weight"][:hidden])
    value = attention.replace("q_proj", "v_proj").replace("query", "value")
    assert torch.equal(params[value], state["blocks.0.attn.qkv.weight"][2 * hidden:])
    assert torch.equal(params["classifier.weight"], state["head.weight"])
    assert classifier.labels == ("non-violence", "violence")


def test_the_loaded_violence_model_computes_what_the_timm_model_computes(tmp_path):
    state = timm_vit_state_dict(seed=3)
    classifier = load_violence_classifier(str(save_violence_checkpoint(tmp_path / "v", state)), CPU)
    pixels = torch.from_numpy(classifier.preprocess(images()))
    with torch.inference_mode():
        ours = classifier.runtime.model(pixel_values=pixels).logits
    torch.testing.assert_close(ours, timm_reference_logits(state, pixels), atol=1e-4, rtol=1e-4)


def test_safetensors_weights_load_the_same_as_the_pickled_ones(tmp_path):
    state = timm_vit_state_dict(seed=4)
    from_bin = load_violence_classifier(str(save_violence_checkpoint(tmp_path / "bin", state)), CPU)
    from_st = load_violence_classifier(
        str(save_violence_checkpoint(tmp_path / "st", state, weights="model.safetensors")), CPU
    )
    np.testing.assert_allclose(from_bin.predict(images()), from_st.predict(images()), atol=1e-6)


def test_an_empty_config_json_is_enough_because_the_architecture_is_read_off_the_weights(tmp_path):
    directory = save_violence_checkpoint(tmp_path / "v", timm_vit_state_dict(), config={})
    (directory / "config.json").write_text("")
    classifier = load_violence_classifier(str(directory), CPU)
    assert classifier.runtime.model.config.num_hidden_layers == TINY["depth"]
    assert classifier.runtime.model.config.layer_norm_eps == 1e-6


def test_a_missing_violence_weight_stops_start_up_instead_of_running_on_random_values(tmp_path):
    state = timm_vit_state_dict()
    del state["blocks.1.mlp.fc2.bias"]
    with pytest.raises(ModelLoadError, match=r"missing: vit\.\S+1\.mlp\.fc2\.bias|missing: vit\.\S+1\.output\.dense\.bias"):
        load_violence_classifier(str(save_violence_checkpoint(tmp_path / "v", state)), CPU)


def test_an_unexpected_violence_weight_stops_start_up(tmp_path):
    state = timm_vit_state_dict()
    state["fc_norm.weight"] = torch.ones(TINY["hidden"])
    with pytest.raises(ModelLoadError, match=r"unexpected: fc_norm\.weight"):
        load_violence_classifier(str(save_violence_checkpoint(tmp_path / "v", state)), CPU)


def test_a_violence_checkpoint_with_other_than_two_classes_is_refused(tmp_path):
    state = timm_vit_state_dict()
    state["head.weight"], state["head.bias"] = torch.zeros(3, TINY["hidden"]), torch.zeros(3)
    with pytest.raises(ModelLoadError, match="3 classes; expected 2"):
        load_violence_classifier(str(save_violence_checkpoint(tmp_path / "v", state)), CPU)


def test_the_violence_score_is_the_probability_of_class_one(tmp_path):
    directory = save_violence_checkpoint(tmp_path / "v", timm_vit_state_dict(violence_bias=6.0))
    scores = load_violence_classifier(str(directory), CPU).scores(images(), "violence")
    assert scores.shape == (3,) and (scores > 0.99).all()


# int8 ---------------------------------------------------------------------------------------------


def test_int8_turns_every_linear_layer_of_the_violence_model_into_an_int8_quantized_one(tmp_path):
    directory = save_violence_checkpoint(tmp_path / "v", timm_vit_state_dict())
    fp32 = load_violence_classifier(str(directory), CPU).runtime.model
    int8 = load_violence_classifier(str(directory), CPU_INT8).runtime.model
    linear_names = {name for name, module in fp32.named_modules() if isinstance(module, torch.nn.Linear)}
    quantized = {name: module for name, module in int8.named_modules() if isinstance(module, QUANTIZED_LINEAR)}
    # Per block: query, key, value, output, two MLP layers; plus the classifier head.
    assert len(linear_names) == 6 * TINY["depth"] + 1
    assert set(quantized) == linear_names
    assert all(module.weight().dtype == torch.qint8 for module in quantized.values())
    assert not any(type(module) is torch.nn.Linear for module in int8.modules())


def test_int8_violence_probabilities_stay_within_five_hundredths_of_fp32_on_synthetic_frames(tmp_path):
    directory = save_violence_checkpoint(tmp_path / "v", timm_vit_state_dict(seed=0))
    frames = scene(2, 20, 2)
    fp32 = load_violence_classifier(str(directory), CPU).scores(frames, "violence")
    int8 = load_violence_classifier(str(directory), CPU_INT8).scores(frames, "violence")
    delta = np.abs(fp32 - int8).max()
    # The tiny test model quantizes coarsely (32-wide layers); full-size ViT-B/16 differs by about 0.01-0.02.
    assert 0 < delta < 0.05, delta


def test_quantization_happens_only_after_every_weight_was_loaded_and_checked(tmp_path, monkeypatch):
    quantized = []

    def spy(model):
        quantized.append({k: v.clone() for k, v in model.state_dict().items()})
        return quantize_linear_int8(model)

    monkeypatch.setattr(runtime_module, "quantize_linear_int8", spy)
    state = timm_vit_state_dict(seed=2)
    broken = dict(state)
    del broken["blocks.0.attn.proj.bias"]
    with pytest.raises(ModelLoadError, match="missing"):
        load_violence_classifier(str(save_violence_checkpoint(tmp_path / "broken", broken)), CPU_INT8)
    assert quantized == []
    load_violence_classifier(str(save_violence_checkpoint(tmp_path / "v", state)), CPU_INT8)
    assert len(quantized) == 1
    assert torch.equal(quantized[0]["classifier.weight"], state["head.weight"])


def test_quantizing_a_model_whose_weights_were_never_loaded_is_refused():
    from transformers import ViTConfig, ViTForImageClassification

    with torch.device("meta"):
        model = ViTForImageClassification(ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2))
    with pytest.raises(ModelLoadError, match="refusing to quantize a model whose weights were not loaded"):
        quantize_linear_int8(model)


def test_the_gender_model_runs_in_int8_too_and_keeps_its_labels(tmp_path):
    directory = save_gender_checkpoint(tmp_path / "g", gender_model(female_bias=6.0))
    classifier = load_gender_classifier(str(directory), CPU_INT8)
    assert classifier.labels == ("female", "male")
    assert any(isinstance(module, QUANTIZED_LINEAR) for module in classifier.runtime.model.modules())
    assert (classifier.scores(images(), "female") > 0.99).all()


def test_quantizing_prints_no_deprecation_warnings(tmp_path, recwarn):
    load_violence_classifier(str(save_violence_checkpoint(tmp_path / "v", timm_vit_state_dict())), CPU_INT8)
    assert [str(w.message)[:80] for w in recwarn if "quantiz" in str(w.message)] == []


# The gender model --------------------------------------------------------------------------------


def test_a_gender_model_saved_by_transformers_loads_with_its_labels_and_its_weights(tmp_path):
    model = gender_model(seed=5)
    classifier = load_gender_classifier(str(save_gender_checkpoint(tmp_path / "g", model)), CPU)
    assert classifier.labels == ("female", "male")
    loaded = classifier.runtime.model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in model.state_dict().items())
    assert classifier.predict(images()).shape == (3, 2)


def test_the_published_gender_checkpoint_layout_with_older_parameter_names_loads_every_weight(tmp_path):
    model = gender_model(seed=6)
    directory = save_gender_checkpoint(tmp_path / "g", model, legacy_names=True)
    loaded = load_gender_classifier(str(directory), CPU).runtime.model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in model.state_dict().items())


def test_a_gender_checkpoint_missing_a_weight_stops_start_up(tmp_path):
    directory = save_gender_checkpoint(tmp_path / "g", gender_model(), drop="classifier.bias")
    with pytest.raises(ModelLoadError, match=r"gender model weights do not match.*missing: classifier\.bias"):
        load_gender_classifier(str(directory), CPU)


def test_a_gender_model_without_female_and_male_labels_is_refused(tmp_path):
    model = gender_model()
    model.config.id2label, model.config.label2id = {0: "cat", 1: "dog"}, {"cat": 0, "dog": 1}
    with pytest.raises(ModelLoadError, match="expected female and male"):
        load_gender_classifier(str(save_gender_checkpoint(tmp_path / "g", model)), CPU)


# Finding models ----------------------------------------------------------------------------------


def test_a_model_neither_local_nor_cached_is_an_error_saying_what_to_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match=rf"violence model '{HUB_ID}'.*hf download {HUB_ID}"):
        load_violence_classifier(HUB_ID, CPU, cache_dir=str(tmp_path / "empty-cache"))


def test_a_missing_local_directory_is_an_error_naming_the_setting(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"directory .*/nowhere does not exist \(models\.gender\)"):
        load_gender_classifier(str(tmp_path / "nowhere"), CPU)


def test_a_model_in_the_hugging_face_cache_loads_by_id_while_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    revision = "a" * 40
    repo = tmp_path / "hub" / "models--jaranohaal--vit-base-violence-detection"
    save_violence_checkpoint(repo / "snapshots" / revision, timm_vit_state_dict(violence_bias=6.0))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    classifier = load_violence_classifier(HUB_ID, CPU, cache_dir=str(tmp_path / "hub"))
    assert (classifier.scores(images(1), "violence") > 0.99).all()


# Runtime and preprocessing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "precision", "bf16"),
    [({"avx2"}, "auto", False), ({"avx2", "avx512_bf16"}, "auto", True), ({"amx_bf16"}, "fp32", False)],
)
def test_bf16_autocast_is_chosen_only_where_the_cpu_has_native_bf16(monkeypatch, flags, precision, bf16):
    monkeypatch.setattr(runtime_module, "_cpu_flags", lambda: flags)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    threads = torch.get_num_threads()
    placement = resolve_placement(InferenceSettings(device="auto", precision=precision, threads=threads))
    assert placement.device.type == "cpu"
    assert (placement.autocast_dtype == torch.bfloat16) is bf16


@pytest.mark.parametrize(
    ("flags", "precision", "chosen", "reason"),
    [
        ({"avx2"}, "auto", "int8", "auto, the CPU has no native bf16"),
        ({"avx2", "amx_bf16"}, "auto", "bf16", "auto, the CPU (avx512_bf16/AMX) has native bf16"),
        ({"avx2"}, "fp32", "fp32", "precision fp32 configured"),
        ({"avx2", "avx512_bf16"}, "int8", "int8", "precision int8 configured"),
    ],
)
def test_the_start_up_log_says_which_precision_was_chosen_and_why(monkeypatch, caplog, flags, precision, chosen, reason):
    monkeypatch.setattr(runtime_module, "_cpu_flags", lambda: flags)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with caplog.at_level("INFO", logger="detection.models.runtime"):
        placement = resolve_placement(InferenceSettings(precision=precision, threads=torch.get_num_threads()))
    assert placement.precision == chosen
    assert f"inference on cpu in {chosen}: {reason}" in caplog.text


def test_auto_falls_back_to_fp32_when_torch_has_no_quantized_engine(monkeypatch):
    monkeypatch.setattr(runtime_module, "_cpu_flags", lambda: {"avx2"})
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(type(torch.backends.quantized), "engine", "none")
    placement = resolve_placement(InferenceSettings(threads=torch.get_num_threads()))
    assert placement.precision == "fp32" and "no quantized CPU engine" in placement.reason
    with pytest.raises(ModelError, match="precision int8 cannot be used: .*no quantized CPU engine"):
        resolve_placement(InferenceSettings(precision="int8", threads=torch.get_num_threads()))


def test_int8_with_a_cuda_device_found_at_start_up_is_an_error_saying_what_to_use(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    with pytest.raises(ModelError, match="int8 runs on the CPU only.*use precision auto or bf16 there"):
        resolve_placement(InferenceSettings(device="auto", precision="int8", threads=torch.get_num_threads()))
    assert resolve_placement(InferenceSettings(device="auto", threads=torch.get_num_threads())).precision == "bf16"


def test_preprocessing_matches_the_transformers_image_processor(tmp_path):
    from transformers import ViTImageProcessor

    ramp = np.linspace(0, 255, 240 * 320 * 3).reshape(240, 320, 3)
    bgr = ((ramp + np.indices((240, 320, 3)).sum(0)) % 256).astype(np.uint8)
    processor = ViTImageProcessor(size={"height": 32, "width": 32}, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    expected = processor(images=bgr[..., ::-1].copy(), return_tensors="pt")["pixel_values"]
    ours = torch.from_numpy(Preprocess(32, 32)([bgr]))
    assert ours.shape == expected.shape
    assert float((ours - expected).abs().mean()) < 0.02, float((ours - expected).abs().mean())


def test_preprocessing_normalises_each_channel_with_its_own_mean_and_std():
    from transformers import ViTImageProcessor

    rng = np.random.default_rng(7)
    bgr = [rng.integers(0, 256, (40, 40, 3), dtype=np.uint8) for _ in range(2)]  # already the size: no resize
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # ImageNet's: a channel mixed up changes the result
    processor = ViTImageProcessor(size={"height": 40, "width": 40}, image_mean=list(mean), image_std=list(std))
    ours = Preprocess(40, 40, mean, std)(bgr)
    expected = processor(images=[image[..., ::-1].copy() for image in bgr], return_tensors="np")["pixel_values"]
    assert ours.dtype == np.float32 and ours.shape == (2, 3, 40, 40)
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_preprocess_reads_size_and_normalisation_from_the_model_directory(tmp_path):
    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps({"size": {"height": 48, "width": 40}, "image_mean": [0.4] * 3, "image_std": [0.2] * 3})
    )
    preprocess = Preprocess.from_model_dir(tmp_path, 224)
    assert (preprocess.height, preprocess.width, preprocess.mean, preprocess.std) == (48, 40, (0.4,) * 3, (0.2,) * 3)
    assert preprocess([np.zeros((10, 10, 3), np.uint8)]).shape == (1, 3, 48, 40)
