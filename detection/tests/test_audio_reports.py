"""Scream reports through the shared publisher: their own endpoint, the clip alongside, spooled in order across restarts."""

import json
import time

from detection.app import main
from detection.audio.events import ScreamEvent
from detection.config import ApiSettings, PublisherSettings
from detection.events import ViolenceEvent
from detection.publisher import HttpPublisher, Spool

KEYS = {"CAM-01": "nkd_cam", "MIC-01": "nkd_mic"}


def scream_event(n: int) -> ScreamEvent:
    return ScreamEvent(
        camera_id="stairs-mic", device_id="MIC-01", beacon_id="stairwell", confidence_score=0.93,
        description=f"scream {n}", details={"label": "Screaming", "n": n}, path="/api/ai/scream-detected/",
        audio=f"OggS-clip-{n}".encode(),
    )


def violence_event(n: int) -> ViolenceEvent:
    return ViolenceEvent(camera_id="gate", device_id="CAM-01", beacon_id="main-gate", confidence_score=0.9,
                         description=f"fight {n}", details={}, images=[b"jpeg"])


def publisher(url, spool_dir):
    settings = PublisherSettings(spool_dir=str(spool_dir), retry_initial_s=0.05, retry_max_s=0.2)
    return HttpPublisher(ApiSettings(base_url=url, timeout_s=2), settings, KEYS)


def test_scream_and_violence_reports_share_one_spool_and_keep_their_order_across_a_restart(fake_api, tmp_path):
    down = publisher("http://127.0.0.1:9", tmp_path)  # nothing listens on the discard port
    down.start()
    down.send(scream_event(1))
    down.send(violence_event(2))
    deadline = time.monotonic() + 10
    while down.stats.failed_attempts < 2:
        assert time.monotonic() < deadline, "the publisher never tried"
        time.sleep(0.02)
    down.stop()
    assert len(Spool(tmp_path).names()) == 2

    back = publisher(fake_api.url, tmp_path)  # a new process, same spool directory
    back.start()
    back.send(scream_event(3))
    assert back.drain(10)
    back.stop()

    assert [r.path for r in fake_api.requests] == [
        "/api/ai/scream-detected/", "/api/ai/violence-detected/", "/api/ai/scream-detected/"
    ]
    first = fake_api.requests[0]
    assert first.headers["Authorization"] == "Device nkd_mic"
    assert first.files["audio"] == ("clip.ogg", "audio/ogg", b"OggS-clip-1") and first.images == []
    assert json.loads(first.fields["details"])["label"] == "Screaming"
    assert fake_api.requests[1].files == {} and fake_api.requests[1].images == [b"jpeg"]


def test_a_missing_audio_model_exits_with_status_three_naming_the_setting(tmp_path, caplog, monkeypatch):
    import yaml

    from detection.tests.audio_factories import silence, write_media
    from detection.tests.factories import (
        gender_model,
        save_gender_checkpoint,
        save_violence_checkpoint,
        timm_vit_state_dict,
    )

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    save_violence_checkpoint(tmp_path / "violence", timm_vit_state_dict())
    save_gender_checkpoint(tmp_path / "gender", gender_model())
    media = write_media(tmp_path / "a.mp4", silence(1), video_seconds=1)
    path = tmp_path / "detector.yaml"
    path.write_text(yaml.safe_dump({
        "cameras": [{"id": "a", "source": str(media), "device_id": "CAM-01", "device_key": "k", "beacon_id": "b",
                     "audio": {}}],
        "models": {"violence": str(tmp_path / "violence"), "gender": str(tmp_path / "gender"),
                   "cache_dir": str(tmp_path / "cache")},
    }))

    assert main(["--config", str(path)]) == 3
    assert "hf download MIT/ast-finetuned-audioset-10-10-0.4593" in caplog.text and "audio.model" in caplog.text
