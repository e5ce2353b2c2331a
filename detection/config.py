"""The detector's configuration: one validated YAML or TOML file listing cameras and global settings."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

Point = tuple[Annotated[float, Field(ge=0, le=1)], Annotated[float, Field(ge=0, le=1)]]
Polygon = Annotated[list[Point], Field(min_length=3)]


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; the message says where and why."""


class _Strict(BaseModel):
    # Unknown keys are typos far more often than intent, and a typo in a threshold must not pass silently.
    model_config = ConfigDict(extra="forbid", frozen=True)


def source_kind(source: str | int) -> Literal["device", "url", "file"]:
    """Tell a camera device index, a network stream and a video file apart."""
    if isinstance(source, int) or source.isdigit():
        return "device"
    return "url" if "://" in source else "file"


def _check_device_key(reporter: CameraConfig | MicrophoneConfig) -> None:
    if (reporter.device_key is None) == (reporter.device_key_env is None):
        raise ValueError("give exactly one of device_key or device_key_env")
    if reporter.device_key_env is not None and not os.environ.get(reporter.device_key_env):
        raise ValueError(f"environment variable {reporter.device_key_env} (device_key_env) is not set")


class AudioGateSettings(_Strict):
    enabled: bool = Field(default=True, description="Skip quiet windows before they reach the audio model.")
    min_level_db: float = Field(
        default=-35.0, le=0, description="Level (dBFS, RMS of 20 ms frames) a frame must reach to count as loud."
    )
    above_floor_db: float = Field(
        default=12.0, ge=0, description="How far above the source's running noise floor a loud frame must also be."
    )
    min_loud_fraction: float = Field(
        default=0.04, gt=0, le=1,
        description="Share of a hop's 20 ms frames that must be loud for the hop to pass (0.04: 40 ms of a 1 s hop).",
    )
    min_band_ratio: float = Field(
        default=0.3, ge=0, le=1,
        description=(
            "Share of a loud hop's energy that must lie between 250 Hz and 8 kHz (voices, screams, glass, shots; "
            "not traffic or machine rumble); 0 disables the check."
        ),
    )
    hold_hops: int = Field(
        default=2, ge=1, le=30, description="After a hop passes, this many hops (it included) are sent to the model."
    )


class CameraAudio(_Strict):
    enabled: bool = Field(default=True, description="Analyse this camera's sound.")
    source: str | None = Field(
        default=None, description="Where the sound comes from when not the camera's own stream: a URL, file or device."
    )
    input_format: str | None = Field(
        default=None, description="FFmpeg input format for a local device (alsa, pulse, avfoundation, dshow)."
    )
    gate: AudioGateSettings | None = Field(default=None, description="This source's gate; audio.gate when unset.")

    @field_validator("source")
    @classmethod
    def _resolve_file_source(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ValueError("must not be empty")
        if source_kind(value) != "file" or not info.context:
            return value
        return str(_resolve(value, info.context["base_dir"]))


class MicrophoneConfig(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$", description="Short unique name used in logs and the spool.")
    source: str = Field(
        min_length=1, description="Audio file, RTSP/HTTP(S) URL, or a device name with input_format (e.g. default, hw:1)."
    )
    input_format: str | None = Field(
        default=None, description="FFmpeg input format for a local device (alsa, pulse, avfoundation, dshow)."
    )
    device_id: str = Field(min_length=1, description="The device id registered with the API (create_device --device-id).")
    device_key: str | None = Field(default=None, min_length=1, description="The device key printed by create_device.")
    device_key_env: str | None = Field(
        default=None, min_length=1, description="Name of an environment variable holding the device key, instead of device_key."
    )
    beacon_id: str = Field(min_length=1, description="Beacon whose location the microphone covers.")
    loop: bool = Field(default=False, description="Restart an audio file at its end instead of finishing (files only).")
    realtime: bool = Field(default=False, description="Pace an audio file at its own speed, like a live source (files only).")
    gate: AudioGateSettings | None = Field(default=None, description="This microphone's gate; audio.gate when unset.")

    @field_validator("source")
    @classmethod
    def _resolve_file_source(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        if source_kind(value) != "file" or not info.context or value.isdigit():
            return value
        return str(_resolve(value, info.context["base_dir"]))

    @model_validator(mode="after")
    def _check_key(self) -> MicrophoneConfig:
        _check_device_key(self)
        return self

    @property
    def key(self) -> str:
        return self.device_key or os.environ[self.device_key_env or ""]


class CameraConfig(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$", description="Short unique name used in logs and the spool.")
    source: str | int = Field(description="Video file path, RTSP/HTTP(S) URL, or local device index (0, 1, ...).")
    device_id: str = Field(min_length=1, description="The device id registered with the API (create_device --device-id).")
    device_key: str | None = Field(default=None, min_length=1, description="The device key printed by create_device.")
    device_key_env: str | None = Field(
        default=None, min_length=1, description="Name of an environment variable holding the device key, instead of device_key."
    )
    beacon_id: str = Field(min_length=1, description="Beacon whose location the camera covers; incidents are placed there.")
    analysis_fps: float = Field(default=2.0, gt=0, le=30, description="Frames per second sampled for analysis.")
    region_mask: list[Polygon] | None = Field(
        default=None,
        description="Polygons of [x, y] points as fractions of width and height; only these areas are analysed.",
    )
    loop: bool = Field(default=False, description="Restart a video file at its end instead of finishing (files only).")
    realtime: bool = Field(
        default=False, description="Pace a video file at its native frame rate, like a live camera (files only)."
    )

    @field_validator("source")
    @classmethod
    def _resolve_file_source(cls, value: str | int, info: ValidationInfo) -> str | int:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty")
        if source_kind(value) != "file" or not info.context:
            return value
        return str(_resolve(value, info.context["base_dir"]))

    audio: CameraAudio | None = Field(
        default=None, description="Listen to this camera's sound too (its stream's audio track, or another source)."
    )

    @model_validator(mode="after")
    def _check_key_and_file_options(self) -> CameraConfig:
        _check_device_key(self)
        if self.audio is not None and self.audio.enabled and self.audio.source is None and self.kind == "device":
            raise ValueError("a local camera device has no sound of its own: give audio.source and audio.input_format")
        if (self.loop or self.realtime) and source_kind(self.source) != "file":
            raise ValueError("loop and realtime apply to video files only")
        return self

    @property
    def key(self) -> str:
        """The device key, read from the environment when configured that way."""
        return self.device_key or os.environ[self.device_key_env or ""]

    @property
    def kind(self) -> Literal["device", "url", "file"]:
        return source_kind(self.source)


class ModelSettings(_Strict):
    violence: str = Field(
        default="jaranohaal/vit-base-violence-detection",
        description="Violence model: local directory or Hugging Face id (timm-layout ViT-B/16 weights).",
    )
    gender: str = Field(
        default="rizvandwiki/gender-classification-2",
        description="Gender model: local directory or Hugging Face id (transformers ViT, labels female/male).",
    )
    person_detector: Literal["hog", "transformers"] = Field(
        default="hog", description="Person detector: OpenCV HOG, or a transformers object-detection model."
    )
    person_model: str = Field(
        default="hustvl/yolos-tiny", description="Object-detection model used when person_detector is transformers."
    )
    cache_dir: str | None = Field(default=None, description="Hugging Face cache directory; the default cache when unset.")

    @field_validator("violence", "gender", "person_model", "cache_dir")
    @classmethod
    def _resolve_local_dirs(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A value that names an existing directory next to the config file is a local model; anything else is a hub id.
        if value is None or not info.context:
            return value
        candidate = _resolve(value, info.context["base_dir"])
        return str(candidate) if candidate.is_dir() or info.field_name == "cache_dir" else value


class InferenceSettings(_Strict):
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="Where models run; auto picks CUDA when present.")
    runtime: Literal["auto", "torch", "openvino", "onnxruntime"] = Field(
        default="auto",
        description=(
            "What runs the classifiers. torch: PyTorch eager (GPUs, and the reference); openvino and onnxruntime: "
            "a model converted once from the verified PyTorch load and cached; auto: torch on CUDA, otherwise the "
            "fastest candidate measured on this machine that passes the accuracy check."
        ),
    )
    precision: Literal["auto", "fp32", "bf16", "int8"] = Field(
        default="auto",
        description=(
            "auto: with runtime torch, bf16 autocast where the hardware has native bf16 (CUDA, avx512_bf16/AMX CPUs), "
            "else int8 on a CPU; with the other runtimes, measured. int8 is dynamic quantization of the Linear layers "
            "in torch, and post-training quantization calibrated on the cameras' own frames in openvino and "
            "onnxruntime (see calibration_dir); it runs on the CPU only."
        ),
    )
    batch_size: int = Field(default=8, ge=1, le=256, description="Most frames, across all cameras, per violence-model batch.")
    max_batch_wait_ms: int = Field(
        default=50, ge=0, le=5000, description="How long to wait for more frames to fill a batch once one frame is waiting."
    )
    threads: int | None = Field(default=None, ge=1, le=256, description="CPU threads per runtime; the library default when unset.")
    streams: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description=(
            "OpenVINO only: independent inference requests each batch is split across, the threads shared out among "
            "them. Unset: OpenVINO's throughput choice for this CPU (one single-thread stream per core on a small "
            "machine), the fastest where the cores are shared with other work; 1: one request on every thread "
            "(lowest latency for a lone frame)."
        ),
    )
    gender_max_people: int = Field(default=8, ge=1, le=64, description="Most person crops per frame given to the gender model.")
    cache_dir: str = Field(
        default="cache/models",
        validate_default=True,
        description=(
            "Converted models (OpenVINO IR, ONNX), one entry per weights SHA-256, runtime version and precision; "
            "relative to the config file. Filled by `python -m detection convert` or at the first start."
        ),
    )
    calibration_dir: str = Field(
        default="calibration",
        validate_default=True,
        description=(
            "Frames from the cameras, collected by `python -m detection calibrate`, that int8 quantization is "
            "calibrated on and checked against; relative to the config file."
        ),
    )
    int8_tolerance: float = Field(
        default=0.02,
        gt=0,
        lt=1,
        description=(
            "Most an int8 model may move any violence probability on the held-out frames; more, or any decision "
            "flipping at decision.threshold, and the unquantized model is used instead."
        ),
    )

    @field_validator("cache_dir", "calibration_dir")
    @classmethod
    def _resolve_dirs(cls, value: str, info: ValidationInfo) -> str:
        return str(_resolve(value, info.context["base_dir"])) if info.context else value

    @model_validator(mode="after")
    def _check_int8_runs_on_the_cpu(self) -> InferenceSettings:
        # int8 models have CPU kernels only; with device auto the check waits for start-up.
        if self.device == "cuda" and self.precision == "int8":
            raise ValueError("precision int8 runs on the CPU only; use auto or bf16 with device cuda, or device cpu")
        if self.device == "cuda" and self.runtime in ("openvino", "onnxruntime"):
            raise ValueError(f"runtime {self.runtime} runs on the CPU here; use runtime torch or auto with device cuda")
        return self


class MotionSettings(_Strict):
    enabled: bool = Field(default=True, description="Skip frames without motion before they reach the models.")
    min_area: float = Field(
        default=0.005, gt=0, lt=1, description="Fraction of the (masked) image that must change for a frame to count as motion."
    )
    history: int = Field(default=100, ge=2, le=10000, description="Analysed frames the background model remembers.")
    var_threshold: float = Field(default=25.0, gt=0, description="MOG2 variance threshold; higher ignores more noise.")
    width: int = Field(default=160, ge=32, le=1920, description="Width the frame is shrunk to before background subtraction.")


class DecisionSettings(_Strict):
    threshold: float = Field(default=0.75, gt=0, lt=1, description="Violence score the window median must reach.")
    window: int = Field(default=5, ge=1, le=100, description="Analysed frames in the sliding window whose median is compared.")
    cooldown_s: float = Field(default=120.0, ge=0, description="Seconds after an event during which the camera raises no other.")
    evidence_frames: int = Field(default=3, ge=0, le=3, description="Most violent frames attached to the event as JPEG evidence.")


DEFAULT_AUDIO_CLASSES = ("Screaming", "Shout", "Yell", "Crying, sobbing", "Shatter", "Gunshot, gunfire")


class AudioDecisionSettings(_Strict):
    threshold: float = Field(
        default=0.80, gt=0, lt=1, description="Score (highest of the watched classes) the window median must reach."
    )
    window: int = Field(default=3, ge=1, le=60, description="Hops in the sliding window whose median is compared.")
    cooldown_s: float = Field(default=60.0, ge=0, description="Seconds after a report during which the source raises no other.")
    clip_s: float = Field(default=4.0, ge=1, le=10, description="Length of the evidence clip sent with a report.")


class AudioSettings(_Strict):
    model: str = Field(
        default="MIT/ast-finetuned-audioset-10-10-0.4593",
        description="Audio classifier: local directory or Hugging Face id (transformers audio classification, AudioSet labels).",
    )
    classes: list[str] = Field(
        default=list(DEFAULT_AUDIO_CLASSES), min_length=1,
        description="Model labels that count as distress; a window's score is the highest of them.",
    )
    activation: Literal["sigmoid", "softmax"] = Field(
        default="sigmoid",
        description="sigmoid for multi-label models such as AudioSet's (one probability per class), softmax for single-label ones.",
    )
    hop_s: float = Field(default=1.0, ge=0.25, le=10, description="Seconds between successive windows of one source.")
    batch_size: int = Field(default=4, ge=1, le=64, description="Most windows, across all sources, per audio-model batch.")
    gate: AudioGateSettings = Field(default_factory=AudioGateSettings, description="The default energy and voice gate.")
    decision: AudioDecisionSettings = Field(
        default_factory=AudioDecisionSettings, description="When a source raises a scream report."
    )
    evidence_bitrate: int = Field(
        default=24000, ge=6000, le=128000, description="Bits per second of the Opus evidence clip."
    )
    microphones: list[MicrophoneConfig] = Field(default_factory=list, description="Standalone microphones.")

    @field_validator("model")
    @classmethod
    def _resolve_local_dir(cls, value: str, info: ValidationInfo) -> str:
        if not info.context:
            return value
        candidate = _resolve(value, info.context["base_dir"])
        return str(candidate) if candidate.is_dir() else value

    def gate_for(self, override: AudioGateSettings | None) -> AudioGateSettings:
        return override or self.gate


class ApiSettings(_Strict):
    base_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://", description="Root URL of the NaariKavach API.")
    path: str = Field(default="/api/ai/violence-detected/", pattern=r"^/", description="Path of the violence endpoint.")
    scream_path: str = Field(default="/api/ai/scream-detected/", pattern=r"^/", description="Path of the scream endpoint.")
    timeout_s: float = Field(default=15.0, gt=0, description="Per-request timeout in seconds.")

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + self.path


class PublisherSettings(_Strict):
    spool_dir: str = Field(
        default="spool/detection",
        validate_default=True,
        description="Directory holding undelivered events; relative to the config file.",
    )
    retry_initial_s: float = Field(default=1.0, gt=0, description="First wait after a failed delivery.")
    retry_max_s: float = Field(default=60.0, gt=0, description="Longest wait between delivery attempts.")
    jpeg_quality: int = Field(default=85, ge=30, le=100, description="JPEG quality of evidence frames.")
    drain_timeout_s: float = Field(
        default=30.0, ge=0, description="When every source has ended, how long to keep trying to deliver spooled events."
    )

    @field_validator("spool_dir")
    @classmethod
    def _resolve_spool(cls, value: str, info: ValidationInfo) -> str:
        return str(_resolve(value, info.context["base_dir"])) if info.context else value


class CaptureSettings(_Strict):
    reconnect_initial_s: float = Field(default=1.0, gt=0, description="First wait before reopening a lost stream.")
    reconnect_max_s: float = Field(default=30.0, gt=0, description="Longest wait between reopen attempts.")
    down_after_s: float = Field(default=60.0, gt=0, description="A stream unavailable this long is reported as down.")
    open_timeout_s: float = Field(default=10.0, gt=0, description="Network stream open and read timeout.")


class HealthSettings(_Strict):
    heartbeat_enabled: bool = Field(default=True, description="Send each camera's health to the platform.")
    heartbeat_interval_s: float = Field(
        default=10.0, gt=0, le=300, description="Seconds between heartbeats; keep well below the server's grace period."
    )
    heartbeat_path: str = Field(default="/api/devices/heartbeat/", pattern=r"^/", description="Path of the heartbeat endpoint.")
    focus_analysis_fps: float = Field(
        default=5.0, gt=0, le=30, description="Analysis rate of a camera the platform asks to watch (a linked open SOS)."
    )
    preroll_s: float = Field(
        default=30.0, ge=0, le=300, description="Seconds of key frames kept per camera, sent when an SOS is linked to it."
    )
    preroll_frames: int = Field(default=6, ge=0, le=6, description="Key frames kept over preroll_s (0: none kept).")
    preroll_path: str = Field(default="/api/devices/sos-evidence/", pattern=r"^/", description="Where pre-roll frames go.")
    preroll_clip: bool = Field(
        default=False,
        description="Also send the pre-roll as a short video clip (the key frames at preroll_clip_fps, WebM) with the frames.",
    )
    preroll_clip_fps: float = Field(default=1.0, gt=0, le=10, description="Frame rate of the pre-roll clip.")
    preroll_clip_max_bytes: int = Field(
        default=2_000_000, ge=10_000, le=20_000_000,
        description="Largest pre-roll clip sent; a bigger one is re-encoded smaller, then left out if still too big.",
    )
    snapshot_path: str = Field(
        default="/api/devices/camera-snapshot/", pattern=r"^/",
        description="Where a frame a dispatcher asked for (in a heartbeat answer) is sent.",
    )


class TamperSettings(_Strict):
    enabled: bool = Field(default=True, description="Report frozen feeds, covered lenses and moved cameras.")
    frozen_after_s: float = Field(default=30.0, gt=0, description="Identical frames for this long: the feed is frozen.")
    covered_after_s: float = Field(default=10.0, gt=0, description="A dark or featureless image this long: the lens is covered.")
    dark_level: float = Field(default=15.0, ge=0, le=255, description="Mean brightness (0-255) at or below which the image is dark.")
    flat_stddev: float = Field(default=4.0, ge=0, description="Brightness spread at or below which the image is featureless.")
    moved_after_s: float = Field(
        default=20.0, gt=0, description="Another view (or lost sharpness) this long: the camera moved or was refocused."
    )
    moved_similarity: float = Field(
        default=0.4, gt=0, lt=1,
        description="The view's correlation with its usual one below which it counts as another view (moved).",
    )
    blur_ratio: float = Field(
        default=0.2, gt=0, lt=1, description="Sharpness falling below this share of its usual level counts as refocused."
    )
    cooldown_s: float = Field(default=600.0, ge=0, description="Seconds after a tamper report of one kind before another.")


class OperatorSettings(_Strict):
    port: int | None = Field(default=None, ge=0, le=65535, description="Port of the operator endpoint; off when unset, 0 picks one.")
    host: str = Field(default="127.0.0.1", description="Address it binds to; localhost unless you mean to expose it.")


class DetectorConfig(_Strict):
    cameras: list[CameraConfig] = Field(min_length=1, description="The cameras to analyse.")
    models: ModelSettings = Field(default_factory=ModelSettings, description="Which models to load and from where.")
    inference: InferenceSettings = Field(default_factory=InferenceSettings, description="Device, precision, batching, threads.")
    motion: MotionSettings = Field(default_factory=MotionSettings, description="The motion gate in front of the models.")
    decision: DecisionSettings = Field(default_factory=DecisionSettings, description="When a camera raises an event.")
    api: ApiSettings = Field(default_factory=ApiSettings, description="Where events are reported.")
    publisher: PublisherSettings = Field(default_factory=PublisherSettings, description="Delivery, retries and the disk spool.")
    capture: CaptureSettings = Field(default_factory=CaptureSettings, description="Stream reconnection behaviour.")
    audio: AudioSettings = Field(default_factory=AudioSettings, description="The audio model, gate, decision and microphones.")
    status_interval_s: float = Field(default=30.0, gt=0, description="Seconds between per-camera status lines in the log.")
    health: HealthSettings = Field(default_factory=HealthSettings, description="Heartbeats to the platform.")
    tamper: TamperSettings = Field(default_factory=TamperSettings, description="Frozen, covered and moved cameras.")
    operator: OperatorSettings = Field(default_factory=OperatorSettings, description="The operator's HTTP endpoint.")

    @model_validator(mode="before")
    @classmethod
    def _validate_default_publisher(cls, data: object) -> object:
        # Validating an explicit empty section (rather than a default instance) resolves the default paths in it.
        if isinstance(data, dict):
            return {"publisher": {}, "inference": {}, **data}
        return data

    @model_validator(mode="after")
    def _check_unique_cameras(self) -> DetectorConfig:
        seen: set[str] = set()
        for source in [*self.cameras, *self.audio.microphones]:
            if source.id in seen:
                kind = "camera" if isinstance(source, CameraConfig) else "microphone"
                raise ValueError(f"{kind} id {source.id!r} is used twice")
            seen.add(source.id)
        return self


def _resolve(value: str, base_dir: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _parse(path: Path) -> object:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        return tomllib.loads(text)
    if path.suffix in (".yaml", ".yml"):
        return yaml.safe_load(text)
    raise ConfigError(f"{path}: use a .yaml, .yml or .toml file")


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in item["loc"]).replace(".[", "[")
        value = item.get("input")
        # Echo only plain values, never whole sections or keys: those may hold device keys and stream passwords.
        shown = item["type"] != "missing" and not isinstance(value, (dict, list)) and "key" not in where
        got = f" (got {json.dumps(value, default=str)[:80]})" if shown else ""
        lines.append(f"  {where or '(top level)'}: {item['msg']}{got}")
    return "\n".join(lines)


def load_config(path: str | os.PathLike) -> DetectorConfig:
    """Read and validate a config file; relative paths in it are relative to the file's directory."""
    path = Path(path)
    try:
        data = _parse(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror or exc}") from exc
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping with at least a 'cameras' list")
    try:
        return DetectorConfig.model_validate(data, context={"base_dir": path.resolve().parent})
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid configuration:\n{_describe(exc)}") from exc
