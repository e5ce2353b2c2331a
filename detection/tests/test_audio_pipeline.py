"""The worker with sound: a camera whose clip screams makes one scream report with its clip; a quiet one makes none."""

import io
import json
import logging

import av
import numpy as np
import pytest
import yaml

from detection.app import DetectorApp
from detection.config import load_config
from detection.tests.audio_factories import (
    level,
    save_ast_checkpoint,
    scream,
    silence,
    speech_like,
    timeline,
    tiny_ast,
    write_media,
)
from detection.tests.factories import (
    gender_model,
    save_gender_checkpoint,
    save_violence_checkpoint,
    timm_vit_state_dict,
)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """An audio model that calls every window a scream (so the gate decides) and a violence model that never fires."""
    root = tmp_path_factory.mktemp("models")
    save_violence_checkpoint(root / "violence", timm_vit_state_dict(violence_bias=-6.0))
    save_gender_checkpoint(root / "gender", gender_model())
    save_ast_checkpoint(root / "ast", tiny_ast(scream_bias=6.0))
    return root


def write_config(tmp_path, models, cameras, **sections):
    config = {
        "cameras": cameras,
        "models": {"violence": str(models / "violence"), "gender": str(models / "gender")},
        "inference": {"batch_size": 4, "max_batch_wait_ms": 20, "threads": 2},
        "publisher": {"spool_dir": "spool", "retry_initial_s": 0.05, "drain_timeout_s": 10},
        "status_interval_s": 0.3,
        **sections,
    }
    config.setdefault("audio", {})["model"] = str(models / "ast")
    path = tmp_path / "detector.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def camera(name, media, **extra):
    return {"id": name, "source": str(media), "device_id": f"DEV-{name}", "device_key": f"key-{name}",
            "beacon_id": f"beacon-{name}", "analysis_fps": 2, "audio": {}, **extra}


def decode(ogg: bytes) -> np.ndarray:
    with av.open(io.BytesIO(ogg)) as container:
        return np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])


def test_a_camera_clip_with_a_scream_makes_exactly_one_scream_report_with_the_clip(tmp_path, models, fake_api, caplog):
    caplog.set_level(logging.INFO, logger="detection")
    media = write_media(tmp_path / "yard.mp4", timeline(silence(3), scream(2), silence(5)), video_seconds=10)
    config = load_config(write_config(tmp_path, models, [camera("yard", media)], api={"base_url": fake_api.url}))

    assert DetectorApp(config).run() == 0

    (request,) = fake_api.requests
    assert request.path == "/api/ai/scream-detected/"
    assert request.headers["Authorization"] == "Device key-yard"
    assert request.fields["beacon_id"] == "beacon-yard" and request.fields["device_id"] == "DEV-yard"
    assert float(request.fields["confidence_score"]) > 0.99
    details = json.loads(request.fields["details"])
    assert details["label"] == "Screaming" and details["class_scores"]["Screaming"] > 0.99
    assert 3.0 <= details["window_end_s"] <= 6.5 and details["window_start_s"] < details["window_end_s"]
    _, content_type, clip = request.files["audio"]
    assert content_type == "audio/ogg" and clip[:4] == b"OggS"
    assert level(decode(clip)) > -25  # the burst is in the evidence
    assert request.images == []
    status = [r.getMessage() for r in caplog.records if r.getMessage().startswith("audio yard: ")]
    assert "reports 1" in status[-1] and "skipped by gate" in status[-1]


def test_a_quiet_clip_makes_no_report_and_never_reaches_the_model(tmp_path, models, fake_api, caplog):
    caplog.set_level(logging.INFO, logger="detection")
    media = write_media(tmp_path / "hall.mp4", timeline(silence(4), speech_like(4, rms=0.003)), video_seconds=8)
    config = load_config(write_config(tmp_path, models, [camera("hall", media)], api={"base_url": fake_api.url}))

    assert DetectorApp(config).run() == 0

    assert fake_api.requests == []
    status = [r.getMessage() for r in caplog.records if r.getMessage().startswith("audio hall: ")]
    assert "analysed 0 windows | skipped by gate 8" in status[-1]


def test_a_camera_without_sound_is_reported_once_and_the_video_half_carries_on(tmp_path, models, fake_api, caplog):
    caplog.set_level(logging.INFO, logger="detection")
    media = write_media(tmp_path / "mute.mp4", None, video_seconds=4)
    config = load_config(write_config(tmp_path, models, [camera("mute", media)], api={"base_url": fake_api.url}))

    assert DetectorApp(config).run() == 0

    assert len([r for r in caplog.records if "no audio track" in r.getMessage()]) == 1
    video_status = [r.getMessage() for r in caplog.records if r.getMessage().startswith("camera mute: ")]
    assert video_status[-1].startswith("camera mute: ended | analysed") and "(6 total) | skipped by motion gate 2" in video_status[-1]
    audio_status = [r.getMessage() for r in caplog.records if r.getMessage().startswith("audio mute: ")]
    assert audio_status[-1].startswith("audio mute: no_audio")


def test_a_standalone_microphone_reports_with_its_own_device(tmp_path, models, fake_api):
    quiet = write_media(tmp_path / "quiet.mp4", silence(4), video_seconds=4)
    shouting = write_media(tmp_path / "mic.ogg", timeline(silence(2), scream(3), silence(3)), audio_codec="libopus",
                           audio_rate=48000, channels=1)
    microphone = {"id": "stairs-mic", "source": str(shouting), "device_id": "MIC-01", "device_key": "key-mic",
                  "beacon_id": "stairwell"}
    config = load_config(write_config(
        tmp_path, models, [camera("quiet", quiet)], api={"base_url": fake_api.url},
        audio={"microphones": [microphone]},
    ))

    assert DetectorApp(config).run() == 0

    (request,) = fake_api.requests
    assert request.headers["Authorization"] == "Device key-mic"
    assert request.fields["beacon_id"] == "stairwell"
    assert json.loads(request.fields["details"])["audio_source"] == "stairs-mic"


class RecordingClassifier:
    """Wraps the real audio classifier to see how many windows, from which sources, share one model call."""

    def __init__(self, inner, batches):
        self.inner, self.batches = inner, batches
        self.classes, self.context_samples = inner.classes, inner.context_samples

    def scores(self, windows):
        self.batches.append(len(windows))
        return self.inner.scores(windows)


def test_windows_from_several_sources_share_one_model_batch(tmp_path, models, fake_api):
    loud = timeline(scream(6, amplitude=0.3))
    cameras = [camera(f"c{i}", write_media(tmp_path / f"c{i}.mp4", loud, video_seconds=6)) for i in range(3)]
    config = load_config(write_config(tmp_path, models, cameras, api={"base_url": fake_api.url},
                                      audio={"batch_size": 3, "decision": {"threshold": 0.99, "window": 60}}))
    app = DetectorApp(config)
    batches = []
    app.audio.analyzer.classifier = RecordingClassifier(app.audio.classifier, batches)

    assert app.run() == 0

    assert sum(batches) == 3 * 6 and max(batches) > 1


class ScriptedSource:
    """Chunks as a reconnecting source yields them: one second of ones on connection 1, then twos on connection 2."""

    lossless = True

    def __init__(self):
        from detection.audio.capture import AudioCaptureStats, AudioInput

        self.audio, self.stats = AudioInput("street", "rtsp://camera/live"), AudioCaptureStats()

    def chunks(self):
        from detection.audio.capture import AudioChunk

        yield AudioChunk("street", np.ones(16000, np.float32), 100.0, 1)
        yield AudioChunk("street", np.full(16000, 2.0, np.float32), 130.0, 2)


def test_after_a_reconnect_no_window_joins_sound_from_both_sides_of_the_gap():
    import threading

    from detection.audio.gate import OpenGate
    from detection.audio.pipeline import AudioStats, AudioWorker
    from detection.pipeline import FrameBatcher

    batcher = FrameBatcher()
    batcher.register("street", lossless=True, depth=10)
    worker = AudioWorker(ScriptedSource(), OpenGate(), batcher, AudioStats(), threading.Event(),
                         hop_s=1.0, context_samples=24000)
    worker._run()

    first, second = (sample.frame for sample in batcher.take(10, 0.1, 0))
    assert (first.start_ts, first.end_ts) == (100.0, 101.0) and (second.start_ts, second.end_ts) == (130.0, 131.0)
    assert set(np.unique(first.samples)) == {0.0, 1.0}
    assert set(np.unique(second.samples)) == {0.0, 2.0}  # silence before the reconnect, never the old connection's ones


class OneLongChunk(ScriptedSource):
    """A decoder that hands over five seconds in one frame."""

    def chunks(self):
        from detection.audio.capture import AudioChunk

        yield AudioChunk("street", np.repeat(np.arange(1, 6, dtype=np.float32), 16000), 0.0, 1)


def test_a_chunk_longer_than_the_ring_is_cut_into_hops_without_losing_any():
    import threading

    from detection.audio.gate import OpenGate
    from detection.audio.pipeline import AudioStats, AudioWorker
    from detection.pipeline import FrameBatcher

    batcher = FrameBatcher()
    batcher.register("street", lossless=False, depth=10)
    source = OneLongChunk()
    worker = AudioWorker(source, OpenGate(), batcher, AudioStats(), threading.Event(), hop_s=1.0,
                         context_samples=24000)
    worker._run()

    windows = [sample.frame for sample in batcher.take(10, 0.1, 0)]
    assert source.stats.state != "failed"
    assert [w.end_ts for w in windows] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [float(w.samples[-1]) for w in windows] == [1.0, 2.0, 3.0, 4.0, 5.0]
