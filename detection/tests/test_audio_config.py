"""The audio parts of the configuration: per camera and per microphone, typos refused, keys kept out of errors."""

import textwrap

import pytest

from detection.audio.pipeline import audio_inputs
from detection.config import ConfigError, DetectorConfig, load_config

BASE = """
cameras:
  - id: gate
    source: videos/gate.mp4
    device_id: CAM-01
    device_key: secret
    beacon_id: main-gate
"""


def write(tmp_path, text):
    path = tmp_path / "detector.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_without_an_audio_section_nothing_is_listened_to(tmp_path):
    config = load_config(write(tmp_path, BASE))
    assert config.cameras[0].audio is None and audio_inputs(config) == []
    assert config.audio.decision.threshold == 0.80 and config.api.scream_path == "/api/ai/scream-detected/"


def test_a_camera_and_a_microphone_each_get_their_source_reporter_and_gate(tmp_path):
    text = BASE + """    audio:
      gate: {min_level_db: -20}
audio:
  gate: {min_level_db: -40}
  microphones:
    - {id: stairs, source: clips/stairs.ogg, device_id: MIC-01, device_key: k, beacon_id: stairwell}
"""
    config = load_config(write(tmp_path, text))
    (camera, camera_reporter, camera_gate), (mic, mic_reporter, mic_gate) = audio_inputs(config)
    assert camera.source == str(tmp_path / "videos/gate.mp4") and camera_reporter.device_id == "CAM-01"
    assert camera_gate.min_level_db == -20 and mic_gate.min_level_db == -40
    assert mic.source == str(tmp_path / "clips/stairs.ogg") and mic_reporter.beacon_id == "stairwell"


def test_a_typo_in_the_audio_gate_is_an_error_that_names_it(tmp_path):
    path = write(tmp_path, BASE + "audio:\n  gate:\n    min_level: -30\n")
    with pytest.raises(ConfigError, match=r"audio\.gate\.min_level: Extra inputs are not permitted"):
        load_config(path)


def test_a_local_camera_device_needs_its_own_sound_source(tmp_path):
    text = BASE.replace("videos/gate.mp4", "0") + "    audio: {}\n"
    with pytest.raises(ConfigError, match="local camera device has no sound of its own"):
        load_config(write(tmp_path, text))


def test_a_microphone_id_may_not_repeat_a_camera_id_and_its_key_is_never_echoed(tmp_path):
    text = BASE + "audio:\n  microphones:\n    - {id: gate, source: a.ogg, device_id: M, device_key: hunter2, beacon_id: b}\n"
    with pytest.raises(ConfigError, match="microphone id 'gate' is used twice") as error:
        load_config(write(tmp_path, text))
    assert "hunter2" not in str(error.value)


def test_a_microphone_needs_exactly_one_key():
    with pytest.raises(ValueError, match="exactly one of device_key or device_key_env"):
        DetectorConfig.model_validate({
            "cameras": [{"id": "c", "source": "a.mp4", "device_id": "C", "device_key": "k", "beacon_id": "b"}],
            "audio": {"microphones": [{"id": "m", "source": "a.ogg", "device_id": "M", "beacon_id": "b"}]},
        })


def test_every_audio_setting_is_described():
    from detection.config import (
        AudioDecisionSettings,
        AudioGateSettings,
        AudioSettings,
        CameraAudio,
        MicrophoneConfig,
    )

    for model in (AudioSettings, AudioGateSettings, AudioDecisionSettings, CameraAudio, MicrophoneConfig):
        assert all(field.description for field in model.model_fields.values()), model.__name__
