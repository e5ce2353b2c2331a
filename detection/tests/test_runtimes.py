"""Runtimes: models converted from the verified PyTorch load compute what PyTorch computes, are cached, and int8 is gated."""

import json
import logging
import shutil

import cv2
import numpy as np
import pytest
import torch

from detection.config import InferenceSettings
from detection.models import build, onnx_runtime, openvino_runtime
from detection.models.build import AutoChooser, Measured, ModelBuilder
from detection.models.classifiers import load_gender_classifier, load_violence_classifier
from detection.models.errors import ModelError
from detection.models.int8 import CalibrationSet, accuracy_gate
from detection.models.runtime import Placement
from detection.tests.factories import (
    gender_model,
    save_gender_checkpoint,
    save_violence_checkpoint,
    scene,
    timm_vit_state_dict,
)

CPU = Placement(torch.device("cpu"))
CONVERTED = ["openvino", "onnxruntime"]
BACKENDS = {"openvino": openvino_runtime, "onnxruntime": onnx_runtime}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Tiny violence and gender models, already converted for both runtimes (tests copy the cache before changing it)."""
    root = tmp_path_factory.mktemp("converted")
    save_violence_checkpoint(root / "violence", timm_vit_state_dict(seed=3))
    save_gender_checkpoint(root / "gender", gender_model(seed=4))
    builder = ModelBuilder(InferenceSettings(cache_dir=str(root / "cache"), threads=2), threshold=0.75)
    for role in ("violence", "gender"):
        files = builder.open(role, str(root / role))
        for runtime in CONVERTED:
            builder.converted(files, runtime)
    return root


def builder_for(tmp_path, converted, **settings) -> ModelBuilder:
    cache = tmp_path / "cache"
    if not cache.exists():
        shutil.copytree(converted / "cache", cache)
    defaults = {"cache_dir": str(cache), "calibration_dir": str(tmp_path / "calibration"), "threads": 2}
    return ModelBuilder(InferenceSettings(**{**defaults, **settings}), threshold=0.75)


def write_calibration(directory, frames):
    (directory / "cam").mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(directory / "cam" / f"m-{i:05d}.jpg"), frame)


class LoadSpy:
    """Counts verified PyTorch loads: a cache hit must need none."""

    def __init__(self, monkeypatch):
        self.calls = 0
        real = build.load_violence_model

        def spy(directory):
            self.calls += 1
            return real(directory)

        monkeypatch.setattr(build, "load_violence_model", spy)


# Conversion round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", CONVERTED)
def test_the_converted_violence_model_gives_pytorchs_probabilities(tmp_path, converted, runtime):
    frames = scene(2, 10, 2)
    reference = load_violence_classifier(str(converted / "violence"), CPU).predict(frames)
    builder = builder_for(tmp_path, converted)
    ours = builder.converted_classifier(builder.open("violence", str(converted / "violence")), runtime, "fp32")
    assert ours.runtime.name == runtime and ours.labels == ("non-violence", "violence")
    assert np.ptp(reference[:, 1]) > 0.01  # the scores vary, so agreement means something
    np.testing.assert_allclose(ours.predict(frames), reference, atol=1e-5)


@pytest.mark.parametrize("runtime", CONVERTED)
def test_the_converted_gender_model_keeps_its_labels_and_probabilities(tmp_path, converted, runtime):
    frames = scene(0, 6, 0)
    reference = load_gender_classifier(str(converted / "gender"), CPU).predict(frames)
    builder = builder_for(tmp_path, converted)
    ours = builder.converted_classifier(builder.open("gender", str(converted / "gender")), runtime, "fp32")
    assert ours.labels == ("female", "male")
    np.testing.assert_allclose(ours.predict(frames), reference, atol=1e-5)


def test_a_batch_of_any_size_runs_on_the_converted_models(tmp_path, converted):
    builder = builder_for(tmp_path, converted)
    files = builder.open("violence", str(converted / "violence"))
    for runtime in CONVERTED:
        classifier = builder.converted_classifier(files, runtime, "fp32")
        assert [classifier.predict(scene(0, n, 0)).shape for n in (1, 5)] == [(1, 2), (5, 2)]


def test_a_batch_split_across_openvino_streams_keeps_each_image_with_its_own_scores(tmp_path, converted):
    files = ModelBuilder(InferenceSettings(cache_dir=str(converted / "cache")), 0.75).open(
        "violence", str(converted / "violence"))
    one = builder_for(tmp_path, converted, streams=1).converted_classifier(files, "openvino", "fp32")
    split = builder_for(tmp_path, converted, streams=2).converted_classifier(files, "openvino", "fp32")
    assert (one.runtime.streams, split.runtime.streams) == (1, 2) and "2 streams" in split.runtime.describe()
    frames = build.synthetic_frames(7, seed=9)
    reference = one.scores(frames, "violence")
    assert len(set(np.round(reference, 5))) == len(frames)  # every frame scores differently: a swap would show
    for count in (1, 2, 3, len(frames)):  # uneven splits, and fewer frames than streams
        np.testing.assert_allclose(split.scores(frames[:count], "violence"), reference[:count], atol=1e-5)


def test_a_conversion_that_changes_the_outputs_is_refused(tmp_path, converted, monkeypatch):
    real = onnx_runtime.OnnxRuntime.infer
    monkeypatch.setattr(onnx_runtime.OnnxRuntime, "infer", lambda self, batch: real(self, batch) + [0.0, 0.5])
    builder = builder_for(tmp_path, converted, cache_dir=str(tmp_path / "empty-cache"))
    with pytest.raises(ModelError, match=r"converted to onnxruntime gives probabilities up to 0\.0[5-9]\d* away"):
        builder.converted(builder.open("violence", str(converted / "violence")), "onnxruntime")
    assert list((tmp_path / "empty-cache").iterdir()) == []  # nothing half-written is left for a later start


# The cache ------------------------------------------------------------------------------------------


def test_a_cached_conversion_is_reused_without_loading_pytorch(tmp_path, converted, monkeypatch):
    spy = LoadSpy(monkeypatch)
    builder = builder_for(tmp_path, converted)
    files = builder.open("violence", str(converted / "violence"))
    entries = builder.cache.entries()
    for runtime in CONVERTED:
        builder.converted_classifier(files, runtime, "fp32").predict(scene(0, 1, 0))
    assert spy.calls == 0 and builder.cache.entries() == entries


@pytest.mark.slow
def test_new_weights_are_converted_again_and_replace_the_old_entry(tmp_path, converted, monkeypatch):
    spy = LoadSpy(monkeypatch)
    source = save_violence_checkpoint(tmp_path / "violence", timm_vit_state_dict(seed=3))
    builder = builder_for(tmp_path, converted)
    first, _ = builder.converted(builder.open("violence", str(source)), "openvino")
    assert spy.calls == 0  # the same weights in another directory are the same model
    save_violence_checkpoint(source, timm_vit_state_dict(seed=9))
    second, meta = builder.converted(builder.open("violence", str(source)), "openvino")
    assert spy.calls == 1 and second != first and not first.exists()
    violence_openvino = [e for e in builder.cache.entries() if e.startswith("violence-") and "-openvino-" in e]
    assert violence_openvino == [second.name]
    assert meta["key"]["weights_sha256"] != first.name.split("-")[1]


@pytest.mark.slow
def test_a_new_runtime_version_converts_again(tmp_path, converted, monkeypatch):
    spy = LoadSpy(monkeypatch)
    builder = builder_for(tmp_path, converted)
    files = builder.open("violence", str(converted / "violence"))
    old, _ = builder.converted(files, "onnxruntime")
    monkeypatch.setattr(onnx_runtime, "version", lambda: "99.0.0")
    new, meta = builder.converted(files, "onnxruntime")
    assert spy.calls == 1 and meta["key"]["version"] == "99.0.0" and "99.0.0" in new.name and not old.exists()


@pytest.mark.slow
def test_an_entry_whose_metadata_does_not_match_is_rebuilt(tmp_path, converted, monkeypatch):
    spy = LoadSpy(monkeypatch)
    builder = builder_for(tmp_path, converted)
    files = builder.open("violence", str(converted / "violence"))
    directory, meta = builder.converted(files, "openvino")
    (directory / "meta.json").write_text(json.dumps({**meta, "format": 0}))
    builder.converted(files, "openvino")
    assert spy.calls == 1 and json.loads((directory / "meta.json").read_text())["format"] == meta["format"]


# int8 and the accuracy gate ---------------------------------------------------------------------------


def test_the_gate_accepts_small_changes_and_refuses_large_ones_or_flipped_decisions():
    reference = np.array([0.10, 0.50, 0.90])
    assert accuracy_gate(reference, reference + 0.015, threshold=0.75, tolerance=0.02).accepted
    too_far = accuracy_gate(reference, reference + [0, 0.03, 0], threshold=0.75, tolerance=0.02)
    assert not too_far.accepted and too_far.max_delta == pytest.approx(0.03) and too_far.flips == 0
    flipped = accuracy_gate(np.array([0.749]), np.array([0.751]), threshold=0.75, tolerance=0.02)
    assert not flipped.accepted and flipped.flips == 1


def test_calibration_frames_are_split_into_calibration_and_held_out_ones(tmp_path):
    write_calibration(tmp_path, scene(0, 20, 0))
    frames = CalibrationSet.load(tmp_path)
    assert (len(frames.calibration), len(frames.held_out)) == (15, 5)
    assert not set(frames.calibration) & set(frames.held_out)
    write_calibration(tmp_path / "few", scene(0, 6, 0))
    assert CalibrationSet.load(tmp_path / "few") is None


@pytest.mark.slow
@pytest.mark.parametrize("runtime", CONVERTED)
def test_int8_calibrated_on_camera_frames_passes_the_gate_and_is_used(tmp_path, converted, runtime, caplog):
    write_calibration(tmp_path / "calibration", scene(0, 40, 0))
    builder = builder_for(tmp_path, converted)
    caplog.set_level(logging.INFO, logger="detection.models.build")
    classifier = builder.converted_classifier(builder.open("violence", str(converted / "violence")), runtime, "int8")
    assert classifier.runtime.precision == "int8"
    assert f"int8 violence model on {runtime} passed the accuracy gate: max violence probability change" in caplog.text
    frames = scene(0, 8, 0, seed=5)
    fp32 = builder.converted_classifier(builder.open("violence", str(converted / "violence")), runtime, "fp32")
    assert 0 < np.abs(classifier.scores(frames, "violence") - fp32.scores(frames, "violence")).max() < 0.05


@pytest.mark.slow
def test_the_gate_refuses_a_broken_int8_model_and_the_worker_runs_unquantized(tmp_path, converted, monkeypatch, caplog):
    real = openvino_runtime.save_quantized

    def calibrated_on_the_wrong_frames(source, calibration, directory):
        # Ranges from frames 40 times too bright: the int8 steps become far too coarse for real frames.
        real(source, [batch * 40 for batch in calibration], directory)

    monkeypatch.setattr(openvino_runtime, "save_quantized", calibrated_on_the_wrong_frames)
    write_calibration(tmp_path / "calibration", scene(0, 40, 0))
    builder = builder_for(tmp_path, converted)
    caplog.set_level(logging.INFO, logger="detection.models.build")
    classifier = builder.converted_classifier(builder.open("violence", str(converted / "violence")), "openvino", "int8")
    assert classifier.runtime.precision in ("fp32", "bf16")
    (line,) = [r.getMessage() for r in caplog.records if "refused by the accuracy gate" in r.getMessage()]
    change = float(line.split("max violence probability change ")[1].split()[0])
    assert change > 0.02 and "tolerance 0.02" in line and f"running openvino {classifier.runtime.precision}" in line
    # The verdict is cached with the model: the next start refuses it again without quantizing again.
    monkeypatch.setattr(openvino_runtime, "save_quantized", lambda *a: pytest.fail("quantized again"))
    again = builder_for(tmp_path, converted).converted_classifier(
        builder.open("violence", str(converted / "violence")), "openvino", "int8")
    assert again.runtime.precision == classifier.runtime.precision


def test_int8_without_calibration_frames_runs_unquantized_and_says_how_to_collect_them(tmp_path, converted, caplog):
    builder = builder_for(tmp_path, converted)
    caplog.set_level(logging.WARNING, logger="detection.models.build")
    classifier = builder.converted_classifier(builder.open("violence", str(converted / "violence")), "onnxruntime", "int8")
    assert classifier.runtime.precision == "fp32"
    assert "run `python -m detection calibrate --config ...`" in caplog.text


# auto ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_auto_measures_the_candidates_logs_the_table_and_caches_the_choice(tmp_path, converted, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="detection.models.build")
    builder = builder_for(tmp_path, converted)
    classifier, choice = builder.violence_classifier(builder.open("violence", str(converted / "violence")))
    table = [r.getMessage() for r in caplog.records if r.getMessage().startswith("runtime auto: ")]
    measured = {tuple(line.split()[2:4]) for line in table[1:]}
    assert {("torch", "fp32"), ("openvino", "fp32"), ("onnxruntime", "fp32")} <= measured
    assert classifier.runtime.name == choice.runtime and choice.reason.startswith("auto, fastest of")
    caplog.clear()
    monkeypatch.setattr(AutoChooser, "measure", lambda *a: pytest.fail("measured again"))
    again, same = builder_for(tmp_path, converted).violence_classifier(builder.open("violence", str(converted / "violence")))
    assert same == choice and "using the choice measured on" in caplog.text


def test_auto_picks_the_fastest_candidate_that_passed_the_accuracy_check(tmp_path, converted, monkeypatch):
    table = [
        Measured("onnxruntime", "fp32", 50.0, 0.0, 0, True),
        Measured("openvino", "int8", 90.0, 0.03, 0, False),  # fastest, but moved a probability too far
        Measured("openvino", "fp32", 70.0, 0.0, 0, True),
    ]
    monkeypatch.setattr(AutoChooser, "measure", lambda self, files, candidates: table)
    builder = builder_for(tmp_path, converted)
    classifier, choice = builder.violence_classifier(builder.open("violence", str(converted / "violence")))
    assert (choice.runtime, choice.precision, classifier.runtime.name) == ("openvino", "fp32", "openvino")


@pytest.mark.slow
def test_a_cached_int8_model_is_judged_again_when_the_tolerance_tightens(tmp_path, converted, monkeypatch):
    write_calibration(tmp_path / "calibration", scene(0, 40, 0))
    files = builder_for(tmp_path, converted).open("violence", str(converted / "violence"))
    lenient = builder_for(tmp_path, converted, int8_tolerance=0.5).converted_classifier(files, "onnxruntime", "int8")
    assert lenient.runtime.precision == "int8"
    monkeypatch.setattr(onnx_runtime, "save_quantized", lambda *a: pytest.fail("quantized again"))
    strict = builder_for(tmp_path, converted, int8_tolerance=1e-6).converted_classifier(files, "onnxruntime", "int8")
    assert strict.runtime.precision == "fp32"
