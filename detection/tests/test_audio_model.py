"""The audio model: tiny AST checkpoints in transformers' layouts load weight for weight, or not at all."""

import numpy as np
import pytest
import torch

from detection.audio.model import ModelError, ModelLoadError, Runtime, load_audio_classifier
from detection.config import DEFAULT_AUDIO_CLASSES
from detection.tests.audio_factories import (
    TINY_AST,
    TINY_LABELS,
    save_ast_checkpoint,
    scream,
    silence,
    speech_like,
    timeline,
    tiny_ast,
)

CPU = Runtime(torch.device("cpu"), reason="test")
CLASSES = list(DEFAULT_AUDIO_CLASSES)


def assert_same_weights(loaded, original):
    expected = original.state_dict()
    actual = loaded.state_dict()
    assert set(actual) == set(expected)
    for name, tensor in expected.items():
        assert torch.equal(actual[name], tensor), name


def windows(classifier):
    size = classifier.context_samples
    return [silence(2)[:size], speech_like(2, rms=0.05)[:size], timeline(scream(2))[:size]]


@pytest.mark.parametrize("legacy_names", [False, True], ids=["save_pretrained", "pre-5.0 names"])
def test_a_checkpoint_loads_weight_for_weight_and_scores_like_transformers(tmp_path, legacy_names):
    from transformers import ASTFeatureExtractor

    original = tiny_ast(seed=3)
    directory = save_ast_checkpoint(tmp_path / "ast", original, legacy_names=legacy_names)

    classifier = load_audio_classifier(str(directory), CLASSES, CPU)

    assert_same_weights(classifier.model, original)
    assert classifier.context_samples == (TINY_AST["max_length"] - 1) * 160 + 400
    batch = windows(classifier)
    extractor = ASTFeatureExtractor(num_mel_bins=TINY_AST["num_mel_bins"], max_length=TINY_AST["max_length"])
    with torch.no_grad():
        logits = original(**extractor(batch, sampling_rate=16000, return_tensors="pt")).logits
    expected = torch.sigmoid(logits)[:, [TINY_LABELS.index(c) for c in CLASSES]].numpy()
    assert np.allclose(classifier.scores(batch), expected, atol=1e-5)
    assert classifier.scores(batch).shape == (3, len(CLASSES))


def test_a_missing_tensor_stops_loading_and_is_named(tmp_path):
    directory = save_ast_checkpoint(tmp_path / "ast", tiny_ast(), drop="classifier.dense.weight")
    with pytest.raises(ModelLoadError, match=r"missing: classifier\.dense\.weight"):
        load_audio_classifier(str(directory), CLASSES, CPU)


def test_an_extra_tensor_stops_loading(tmp_path):
    from safetensors.torch import load_file, save_file

    directory = save_ast_checkpoint(tmp_path / "ast", tiny_ast())
    state = load_file(str(directory / "model.safetensors"))
    state["classifier.extra.weight"] = torch.zeros(2)
    save_file(state, str(directory / "model.safetensors"))
    with pytest.raises(ModelLoadError, match=r"unexpected: classifier\.extra\.weight"):
        load_audio_classifier(str(directory), CLASSES, CPU)


def test_a_checkpoint_without_its_feature_extractor_is_refused(tmp_path):
    directory = save_ast_checkpoint(tmp_path / "ast", tiny_ast(), feature_extractor=False)
    with pytest.raises(ModelLoadError, match="preprocessor_config.json"):
        load_audio_classifier(str(directory), CLASSES, CPU)


def test_a_watched_class_the_model_does_not_know_is_an_error_listing_its_labels(tmp_path):
    directory = save_ast_checkpoint(tmp_path / "ast", tiny_ast())
    with pytest.raises(ModelLoadError, match=r"no class 'Screeching'.*Speech, Screaming"):
        load_audio_classifier(str(directory), ["Screaming", "Screeching"], CPU)


def test_weights_not_in_the_cache_name_the_download_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as error:
        load_audio_classifier("MIT/ast-finetuned-audioset-10-10-0.4593", CLASSES, CPU, cache_dir=str(tmp_path))
    message = str(error.value)
    assert "hf download MIT/ast-finetuned-audioset-10-10-0.4593" in message
    assert "audio.model" in message and "models.audio" not in message


def test_a_missing_local_directory_names_the_setting(tmp_path):
    with pytest.raises(ModelError, match=r"audio model: directory .*nowhere does not exist \(audio\.model\)"):
        load_audio_classifier(str(tmp_path / "nowhere"), CLASSES, CPU)


def test_int8_scores_stay_close_to_fp32(tmp_path):
    directory = save_ast_checkpoint(tmp_path / "ast", tiny_ast(seed=5))
    fp32 = load_audio_classifier(str(directory), CLASSES, CPU)
    int8 = load_audio_classifier(str(directory), CLASSES, Runtime(torch.device("cpu"), int8=True, reason="test"))
    batch = windows(fp32)
    assert np.max(np.abs(fp32.scores(batch) - int8.scores(batch))) < 0.05
    assert any("quantized" in type(m).__module__ for m in int8.model.modules())
