"""Tamper watch on OpenCV-generated feeds: frozen, covered, moved and refocused cameras, each reported exactly once."""

import cv2
import numpy as np
import pytest

from detection.capture import Frame
from detection.config import CameraConfig, TamperSettings
from detection.tamper import TAMPER_PATH, TamperWatch
from detection.tests.factories import background

CAMERA = CameraConfig(id="gate", source=0, device_id="CAM-01", device_key="k", beacon_id="main-gate")
FPS = 2.0
SETTINGS = TamperSettings(frozen_after_s=20, covered_after_s=8, moved_after_s=4, cooldown_s=600)


def live(base: np.ndarray, seconds: float, rng) -> list[np.ndarray]:
    """A live camera on a still scene: the same view with sensor noise on every frame."""
    frames = []
    for _ in range(int(seconds * FPS)):
        noise = rng.normal(0, 3, base.shape)
        frames.append(np.clip(base.astype(np.float32) + noise, 0, 255).astype(np.uint8))
    return frames


def run(frames: list[np.ndarray], settings: TamperSettings = SETTINGS) -> list:
    sent = []
    watch = TamperWatch({"gate": CAMERA}, settings, sent.append)
    for index, image in enumerate(frames):
        watch.observe(Frame("gate", image, index / FPS, 1_767_225_600.0 + index / FPS))
    return sent


def textured(seed: int) -> np.ndarray:
    """A view with detail everywhere (a street, not a blank wall)."""
    small = np.random.default_rng(seed).integers(0, 255, (12, 16, 3)).astype(np.uint8)
    return cv2.resize(small, (160, 120), interpolation=cv2.INTER_CUBIC)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_a_healthy_still_camera_is_never_reported(rng):
    assert run(live(background(), 300, rng)) == []
    assert run(live(textured(3), 300, rng)) == []


def test_a_camera_panning_slowly_over_the_day_is_not_a_moved_camera(rng):
    base = background()
    frames = []
    for step in range(60):  # the light changes slowly
        frames += live(np.clip(base.astype(np.int16) + step, 0, 255).astype(np.uint8), 5, rng)
    assert run(frames) == []


def test_a_frozen_feed_is_reported_once_with_a_snapshot(rng):
    frames = live(background(), 10, rng)
    frames += [frames[-1].copy() for _ in range(int(60 * FPS))]

    (event,) = run(frames)
    assert event.details["tamper"] == "frozen" and event.details["lasted_s"] >= 20
    assert event.path == TAMPER_PATH and "frozen" in event.description
    snapshot = cv2.imdecode(np.frombuffer(event.images[0], np.uint8), cv2.IMREAD_COLOR)
    assert snapshot.shape == frames[0].shape


def test_a_covered_lens_is_reported_once_and_not_as_frozen(rng):
    covered = np.full_like(background(), 4)
    (event,) = run(live(background(), 10, rng) + live(covered, 60, rng))
    assert event.details["tamper"] == "covered"


def test_a_moved_camera_is_reported_once_then_its_new_view_is_learned(rng):
    view = textured(1)
    turned = np.roll(view, 60, axis=1)  # turned sideways by a third of its field of view
    frames = live(view, 20, rng) + live(turned, 120, rng)
    (event,) = run(frames)
    assert event.details["tamper"] == "moved"


def test_a_refocused_camera_is_reported_once(rng):
    base = background()
    blurred = cv2.GaussianBlur(base, (31, 31), 0)
    (event,) = run(live(base, 20, rng) + live(blurred, 60, rng))
    assert event.details["tamper"] == "refocused"


def test_a_condition_too_short_to_matter_is_not_reported(rng):
    covered = np.full_like(background(), 4)
    assert run(live(background(), 10, rng) + live(covered, 5, rng) + live(background(), 10, rng)) == []


def test_a_condition_that_returns_after_the_cooldown_is_reported_again(rng):
    covered = np.full_like(background(), 4)
    settings = SETTINGS.model_copy(update={"cooldown_s": 30})
    frames = live(background(), 10, rng) + live(covered, 10, rng) + live(background(), 40, rng) + live(covered, 10, rng)
    assert [e.details["tamper"] for e in run(frames, settings)] == ["covered", "covered"]


def test_tamper_watch_can_be_turned_off(rng):
    frames = live(background(), 10, rng)
    assert run(frames + [frames[-1]] * 100, SETTINGS.model_copy(update={"enabled": False})) == []


def test_one_lasting_condition_is_one_report_even_without_a_cooldown(rng):
    frames = live(background(), 10, rng)
    frames += [frames[-1].copy() for _ in range(int(120 * FPS))]
    assert len(run(frames, SETTINGS.model_copy(update={"cooldown_s": 0}))) == 1
