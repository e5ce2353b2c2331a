"""The configuration file: the example loads, and mistakes are clear errors at start-up."""

import textwrap
from pathlib import Path

import pytest

from detection.config import ConfigError, load_config

REPO_ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """
cameras:
  - id: gate
    source: videos/gate.avi
    device_id: CAM-01
    device_key: secret
    beacon_id: main-gate
"""


def write(tmp_path, text, name="detector.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_the_example_config_in_the_repository_is_valid(monkeypatch):
    monkeypatch.setenv("NK_CAM01_KEY", "k1")
    monkeypatch.setenv("NK_CAM02_KEY", "k2")
    monkeypatch.setenv("NK_MIC01_KEY", "k3")
    config = load_config(REPO_ROOT / "detector.example.yaml")
    assert config.cameras[0].audio is not None and config.audio.microphones[0].key == "k3"
    assert [c.id for c in config.cameras] == ["library-entrance", "hostel-corridor"]
    assert config.cameras[0].key == "k1"
    assert config.cameras[1].kind == "device"
    assert config.cameras[0].kind == "url"


def test_a_minimal_config_gets_the_documented_defaults(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    camera = config.cameras[0]
    assert camera.analysis_fps == 2
    assert config.decision.threshold == 0.75
    assert config.models.violence == "jaranohaal/vit-base-violence-detection"
    assert config.api.url == "http://127.0.0.1:8000/api/ai/violence-detected/"
    assert (config.inference.runtime, config.inference.precision, config.inference.int8_tolerance) == ("auto", "auto", 0.02)


def test_relative_file_sources_and_spool_are_relative_to_the_config_file(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert config.cameras[0].source == str(tmp_path / "videos/gate.avi")
    assert config.publisher.spool_dir == str(tmp_path / "spool/detection")


def test_the_model_cache_and_calibration_frames_are_relative_to_the_config_file(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert config.inference.cache_dir == str(tmp_path / "cache/models")
    assert config.inference.calibration_dir == str(tmp_path / "calibration")
    config = load_config(write(tmp_path, MINIMAL + "inference:\n  cache_dir: /srv/models\n"))
    assert config.inference.cache_dir == "/srv/models"


def test_an_unknown_runtime_is_an_error_listing_the_known_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"inference\.runtime: Input should be 'auto', 'torch', 'openvino' or 'onnxruntime'"):
        load_config(write(tmp_path, MINIMAL + "inference:\n  runtime: tensorrt\n"))


def test_a_converted_runtime_on_cuda_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="runtime openvino runs on the CPU here"):
        load_config(write(tmp_path, MINIMAL + "inference:\n  device: cuda\n  runtime: openvino\n"))


def test_an_unknown_key_is_an_error_that_names_it(tmp_path):
    path = write(tmp_path, MINIMAL + "    analysis_fsp: 4\n")
    with pytest.raises(ConfigError, match=r"cameras\[0\]\.analysis_fsp: Extra inputs are not permitted"):
        load_config(path)


def test_an_unknown_top_level_section_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"thresholds: Extra inputs"):
        load_config(write(tmp_path, MINIMAL + "thresholds:\n  violence: 0.8\n"))


def test_a_bad_value_is_an_error_that_names_the_field_and_the_value(tmp_path):
    path = write(tmp_path, MINIMAL + "    analysis_fps: -1\n")
    with pytest.raises(ConfigError, match=r"cameras\[0\]\.analysis_fps: Input should be greater than 0 \(got -1\)"):
        load_config(path)


def test_a_threshold_outside_zero_to_one_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match=r"decision\.threshold"):
        load_config(write(tmp_path, MINIMAL + "decision:\n  threshold: 1.5\n"))


def test_a_camera_needs_exactly_one_way_to_get_its_key(tmp_path):
    text = MINIMAL.replace("    device_key: secret\n", "")
    with pytest.raises(ConfigError, match="exactly one of device_key or device_key_env"):
        load_config(write(tmp_path, text))


def test_a_key_from_an_unset_environment_variable_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("NK_MISSING_KEY", raising=False)
    text = MINIMAL.replace("device_key: secret", "device_key_env: NK_MISSING_KEY")
    with pytest.raises(ConfigError, match="NK_MISSING_KEY"):
        load_config(write(tmp_path, text))


def test_two_cameras_with_the_same_id_are_rejected(tmp_path):
    second = MINIMAL.split("cameras:\n", 1)[1]
    with pytest.raises(ConfigError, match="camera id 'gate' is used twice"):
        load_config(write(tmp_path, MINIMAL + second))


def test_a_region_mask_point_outside_the_frame_is_rejected(tmp_path):
    text = MINIMAL + "    region_mask: [[[0, 0], [1.2, 0], [1, 1]]]\n"
    with pytest.raises(ConfigError, match=r"region_mask\[0\]\[1\]\[0\]"):
        load_config(write(tmp_path, text))


def test_loop_is_refused_for_a_network_stream(tmp_path):
    text = MINIMAL.replace("videos/gate.avi", "rtsp://10.0.0.2/stream") + "    loop: true\n"
    with pytest.raises(ConfigError, match="video files only"):
        load_config(write(tmp_path, text))


def test_a_toml_config_is_accepted(tmp_path):
    path = write(tmp_path, """
        [[cameras]]
        id = "gate"
        source = 0
        device_id = "CAM-01"
        device_key = "secret"
        beacon_id = "main-gate"
        analysis_fps = 4

        [inference]
        batch_size = 4
    """, name="detector.toml")
    config = load_config(path)
    assert config.cameras[0].kind == "device" and config.cameras[0].analysis_fps == 4
    assert config.inference.batch_size == 4


def test_a_missing_file_and_broken_yaml_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "cameras: [\n"))


def test_errors_never_echo_device_keys_or_stream_passwords(tmp_path, monkeypatch):
    monkeypatch.delenv("NK_MISSING_KEY", raising=False)
    text = MINIMAL.replace("videos/gate.avi", "rtsp://admin:hunter2@10.0.0.2/stream").replace(
        "device_key: secret", "device_key: secret\n    device_key_env: NK_MISSING_KEY"
    )
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    assert "exactly one of device_key" in str(error.value)
    assert "hunter2" not in str(error.value) and "secret" not in str(error.value)


def test_int8_precision_on_a_cuda_device_is_a_configuration_error(tmp_path):
    path = write(tmp_path, MINIMAL + "inference:\n  device: cuda\n  precision: int8\n")
    with pytest.raises(ConfigError, match=r"inference: Value error, precision int8 runs on the CPU only"):
        load_config(path)
    assert load_config(write(tmp_path, MINIMAL + "inference:\n  precision: int8\n")).inference.precision == "int8"
