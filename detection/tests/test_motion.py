"""The motion gate: an empty corridor costs nothing, a fight gets through, masked-out areas are ignored."""

import cv2
import numpy as np

from detection.capture import OpenCVSource
from detection.config import CameraConfig, CaptureSettings, MotionSettings
from detection.motion import AlwaysMoving, BackgroundSubtractionGate, make_motion_gate
from detection.regions import RegionMask
from detection.tests.factories import background, fight_frame, scene, write_video


def sampled_frames(path):
    camera = CameraConfig(id="c", source=str(path), device_id="D", device_key="k", beacon_id="b", analysis_fps=5)
    import threading

    return [f.image for f in OpenCVSource(camera, CaptureSettings(), threading.Event()).frames()]


def test_a_static_video_is_skipped_entirely_after_warm_up(tmp_path):
    video = write_video(tmp_path / "static.avi", scene(60, 0, 0), fps=10)
    gate = BackgroundSubtractionGate(MotionSettings())
    results = [gate.apply(frame) for frame in sampled_frames(video)]
    assert len(results) == 30
    assert not any(r.moving for r in results)


def test_a_fight_after_a_quiet_spell_passes_the_gate(tmp_path):
    video = write_video(tmp_path / "fight.avi", scene(20, 20, 0), fps=10)
    gate = BackgroundSubtractionGate(MotionSettings())
    moving = [gate.apply(frame).moving for frame in sampled_frames(video)]
    assert not any(moving[:10])
    assert sum(moving[10:]) >= 8


def test_sensor_noise_alone_is_not_motion():
    base = background()
    rng = np.random.default_rng(0)
    gate = BackgroundSubtractionGate(MotionSettings())
    noisy = [cv2.add(base, rng.integers(0, 6, base.shape, dtype=np.uint8)) for _ in range(20)]
    assert not any(gate.apply(frame).moving for frame in noisy)


def test_motion_outside_the_region_mask_is_ignored():
    base = background()
    mask = RegionMask([[(0.0, 0.0), (0.2, 0.0), (0.2, 1.0), (0.0, 1.0)]])  # the left fifth; the fight is central
    masked_gate, open_gate = BackgroundSubtractionGate(MotionSettings()), BackgroundSubtractionGate(MotionSettings())
    frames = [base] * 5 + [fight_frame(i, base) for i in range(10)]
    masked = [masked_gate.apply(mask.apply(f), mask.for_shape(*f.shape[:2])).moving for f in frames]
    unmasked = [open_gate.apply(f).moving for f in frames]
    assert sum(unmasked) >= 8
    assert not any(masked)


def test_the_region_mask_blacks_out_everything_outside_its_polygons():
    frame = np.full((100, 200, 3), 255, np.uint8)
    masked = RegionMask([[(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)]]).apply(frame)
    assert masked[:, :95].max() == 0
    assert masked[:, 105:].min() == 255
    assert frame.min() == 255  # the caller's frame is untouched


def test_a_disabled_gate_lets_every_frame_through():
    gate = make_motion_gate(MotionSettings(enabled=False))
    assert isinstance(gate, AlwaysMoving)
    assert gate.apply(background()).moving
