"""Audio test material made on the spot: synthetic sounds, media files written with PyAV, tiny AST checkpoints."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

RATE = 16000
TINY_LABELS = ("Speech", "Screaming", "Shout", "Yell", "Crying, sobbing", "Shatter", "Gunshot, gunfire", "Silence")
TINY_AST = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
            "max_length": 128, "num_mel_bins": 32}  # 128 fbank frames: windows of 1.285 s


def level(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(samples.astype(np.float64) ** 2) + 1e-12))


def silence(seconds: float, seed: int = 0) -> np.ndarray:
    """A quiet room: faint white noise around -70 dBFS."""
    return (np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * 3e-4).astype(np.float32)


def speech_like(seconds: float, rms: float = 0.003, seed: int = 1, syllables: bool = True) -> np.ndarray:
    """Noise shaped like distant talk: voice-band noise switched on and off at a syllable rate (4 Hz).

    Without syllables it is the babble of a crowded room: many voices, no pauses.
    """
    rng = np.random.default_rng(seed)
    count = int(seconds * RATE)
    spectrum = np.fft.rfft(rng.standard_normal(count))
    freqs = np.fft.rfftfreq(count, 1 / RATE)
    spectrum[(freqs < 200) | (freqs > 3500)] = 0
    voice = np.fft.irfft(spectrum, count)
    if syllables:
        voice = voice * 0.5 * (1 + np.sign(np.sin(2 * np.pi * 4 * np.arange(count) / RATE)))
    return (voice / (np.sqrt(np.mean(voice**2)) + 1e-12) * rms).astype(np.float32)


def rumble(seconds: float, rms: float = 0.2, seed: int = 2) -> np.ndarray:
    """Loud traffic or machinery: energy below 120 Hz only."""
    rng = np.random.default_rng(seed)
    count = int(seconds * RATE)
    spectrum = np.fft.rfft(rng.standard_normal(count))
    spectrum[np.fft.rfftfreq(count, 1 / RATE) > 120] = 0
    low = np.fft.irfft(spectrum, count)
    return (low / np.sqrt(np.mean(low**2)) * rms).astype(np.float32)


def scream(seconds: float, amplitude: float = 0.5) -> np.ndarray:
    """A loud, high-pitched burst: a 2.2 kHz tone with vibrato and harmonics, near full scale."""
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * (2200 * t + 40 * np.sin(2 * np.pi * 6 * t) / (2 * np.pi * 6))
    tone = np.sin(phase) + 0.4 * np.sin(2 * phase) + 0.2 * np.sin(1.5 * phase)
    return (tone / np.max(np.abs(tone)) * amplitude).astype(np.float32)


def timeline(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts).astype(np.float32)


def write_media(path: Path, audio: np.ndarray | None, *, video_seconds: float | None = None, fps: int = 10,
                audio_codec: str = "aac", audio_rate: int = 44100, channels: int = 2) -> Path:
    """A media file written with PyAV: optional MPEG-4 video (moving bars) and an audio track resampled to audio_rate.

    The sound is written at a camera's usual rate and in stereo, so the worker's resampling to 16 kHz mono is exercised.
    """
    with av.open(str(path), "w") as container:
        video = None
        if video_seconds is not None:
            video = container.add_stream("mpeg4", rate=fps)
            video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        sound = None
        if audio is not None:
            layout = "stereo" if channels == 2 else "mono"
            sound = container.add_stream(audio_codec, rate=audio_rate, layout=layout)
        if video is not None:
            for index in range(int(video_seconds * fps)):
                image = np.full((120, 160, 3), 60, np.uint8)
                image[:, (index * 7) % 160:(index * 7) % 160 + 10] = 220
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts, frame.time_base = index, Fraction(1, fps)
                for packet in video.encode(frame):
                    container.mux(packet)
            for packet in video.encode(None):
                container.mux(packet)
        if sound is not None:
            _write_audio(container, sound, audio, audio_rate, channels)
    return path


def _write_audio(container, stream, audio: np.ndarray, rate: int, channels: int) -> None:
    resampled = np.interp(np.arange(int(audio.size * rate / RATE)) * RATE / rate, np.arange(audio.size), audio)
    planar = np.repeat(resampled[None, :].astype(np.float32), channels, axis=0)
    layout = "stereo" if channels == 2 else "mono"
    block = 1024
    for start in range(0, planar.shape[1], block):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planar[:, start:start + block]), format="fltp", layout=layout)
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def tiny_ast(seed: int = 0, scream_bias: float | None = None):
    """A two-layer AST with AudioSet-style labels; scream_bias makes the head say Screaming for every window."""
    from transformers import ASTConfig, ASTForAudioClassification

    torch.manual_seed(seed)
    config = ASTConfig(
        **TINY_AST, num_labels=len(TINY_LABELS), id2label=dict(enumerate(TINY_LABELS)),
        label2id={label: i for i, label in enumerate(TINY_LABELS)},
    )
    model = ASTForAudioClassification(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)  # nothing left at its initial value
        if scream_bias is not None:
            model.classifier.dense.weight.zero_()
            bias = torch.full((len(TINY_LABELS),), -scream_bias)
            bias[TINY_LABELS.index("Screaming")] = scream_bias
            model.classifier.dense.bias.copy_(bias)
    return model


# The spelling of AST's parameters in checkpoints saved before transformers 5 (the published AudioSet model's).
LEGACY_AST_NAMES = (
    ("audio_spectrogram_transformer.layers.", "audio_spectrogram_transformer.encoder.layer."),
    ("attention.q_proj", "attention.attention.query"), ("attention.k_proj", "attention.attention.key"),
    ("attention.v_proj", "attention.attention.value"), ("attention.o_proj", "attention.output.dense"),
    ("mlp.fc1", "intermediate.dense"), ("mlp.fc2", "output.dense"),
)


def save_ast_checkpoint(directory: Path, model, *, legacy_names: bool = False, drop: str | None = None,
                        feature_extractor: bool = True) -> Path:
    """save_pretrained and the model's feature extractor; or legacy names / a dropped tensor in model.safetensors."""
    from safetensors.torch import save_file
    from transformers import ASTFeatureExtractor

    directory.mkdir(parents=True, exist_ok=True)
    if not legacy_names and drop is None:
        model.save_pretrained(directory)
    else:
        model.config.save_pretrained(directory)
        state = {}
        for key, value in model.state_dict().items():
            for new, old in LEGACY_AST_NAMES if legacy_names else ():
                key = key.replace(new, old)
            state[key] = value.detach().clone().contiguous()
        if drop is not None:
            state = {k: v for k, v in state.items() if drop not in k}
        save_file(state, str(directory / "model.safetensors"))
    if feature_extractor:
        ASTFeatureExtractor(num_mel_bins=TINY_AST["num_mel_bins"], max_length=TINY_AST["max_length"]).save_pretrained(
            directory
        )
    return directory


def glass(seconds: float = 0.4, amplitude: float = 0.5, seed: int = 3) -> np.ndarray:
    """Breaking glass: bright noise (3-8 kHz) with ringing partials, dying away within a fraction of a second."""
    rng = np.random.default_rng(seed)
    count = int(seconds * RATE)
    t = np.arange(count) / RATE
    spectrum = np.fft.rfft(rng.standard_normal(count))
    spectrum[np.fft.rfftfreq(count, 1 / RATE) < 3000] = 0
    sound = np.fft.irfft(spectrum, count) + sum(np.sin(2 * np.pi * f * t) for f in (4100, 5300, 6900)) * 0.05
    sound = sound * np.exp(-t / (seconds / 4))
    return (sound / np.max(np.abs(sound)) * amplitude).astype(np.float32)


def gunshot(amplitude: float = 0.9, seed: int = 4) -> np.ndarray:
    """A shot: a broadband crack of a few milliseconds and 60 ms of decaying echo."""
    rng = np.random.default_rng(seed)
    count = int(0.08 * RATE)
    t = np.arange(count) / RATE
    sound = rng.standard_normal(count) * np.exp(-t / 0.015)
    return (sound / np.max(np.abs(sound)) * amplitude).astype(np.float32)
