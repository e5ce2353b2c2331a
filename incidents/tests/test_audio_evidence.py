"""Audio evidence on scream reports: decoded before it is accepted, kept privately with its hash, played by responders."""

import hashlib
import io
import math
import struct
import wave

import av
import numpy as np
import pytest
from django.urls import reverse

from incidents.models import AIEvent, Incident, IncidentAudio, IncidentImage
from incidents.tests.factories import image_bytes, report, upload
from incidents.tests.fixtures import device_client_for
from naarikavach.testing import client_for

SCREAM = reverse("ai-scream-detected")


def tone(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * math.pi * 2200 * t)).astype(np.float32)


def ogg_opus(seconds: float = 4.0) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(tone(seconds).reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()


def wav(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((tone(seconds, rate) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def clip(data: bytes, name: str = "clip.ogg", content_type: str = "audio/ogg"):
    return upload(name, data, content_type)


def post(client, beacon, confidence=0.95, audio=None, images=()):
    data = {**report(beacon.beacon_id, confidence), "description": "Screaming heard", "images": list(images)}
    if audio is not None:
        data["audio"] = audio
    return client.post(SCREAM, data, format="multipart")


def assert_nothing_stored(settings):
    assert AIEvent.objects.count() == 0 and IncidentAudio.objects.count() == 0 and IncidentImage.objects.count() == 0
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_a_scream_report_with_a_clip_stores_it_privately_with_its_hash(device_client, beacon, settings):
    data = ogg_opus()

    response = post(device_client, beacon, audio=clip(data))

    assert response.status_code == 201, response.json()
    body = response.json()
    stored = IncidentAudio.objects.get()
    assert stored.incident == Incident.objects.get() and stored.ai_event == AIEvent.objects.get()
    assert body["audio"]["sha256"] == stored.sha256 == hashlib.sha256(data).hexdigest()
    assert body["audio"]["content_type"] == "audio/ogg" and body["audio"]["size_bytes"] == len(data)
    assert body["audio"]["duration_s"] == pytest.approx(4.0, abs=0.05)
    assert body["audio"]["audio"].endswith(reverse("incident-audio-download", args=[stored.pk]))
    on_disk = settings.MEDIA_ROOT / stored.audio.name
    assert stored.audio.name.endswith(".ogg") and on_disk.read_bytes() == data
    assert on_disk.stat().st_mode & 0o777 == 0o600


def test_a_dispatcher_sees_the_clip_in_the_incident_and_downloads_it(device_client, beacon, dispatcher):
    data = ogg_opus()
    post(device_client, beacon, audio=clip(data))
    incident = Incident.objects.get()

    detail = client_for(dispatcher).get(reverse("incident-detail", args=[incident.pk])).json()
    [listed] = detail["audio"]
    response = client_for(dispatcher).get(listed["audio"])

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "audio/ogg"
    assert response["Cache-Control"] == "private, no-store"
    from privacy.models import ViewAuditEntry

    [heard] = ViewAuditEntry.objects.filter(action="evidence_audio")
    assert (heard.actor_label, heard.subject_id, heard.details) == (
        f"dispatcher:{dispatcher.username}", str(incident.pk), {"audio_id": listed["id"]})


def test_anonymous_callers_citizens_and_devices_cannot_download_a_clip(device_client, beacon, citizen, device):
    post(device_client, beacon, audio=clip(ogg_opus()))
    url = reverse("incident-audio-download", args=[IncidentAudio.objects.get().pk])

    assert client_for(None).get(url).status_code == 401
    assert client_for(citizen).get(url).status_code == 403
    assert device_client_for(device.raw_key).get(url).status_code == 403
    assert client_for(None).get(reverse("incident-audio-download", args=[999])).status_code == 401


def test_a_wav_clip_is_accepted_too(device_client, beacon):
    response = post(device_client, beacon, audio=clip(wav(2.0), "clip.wav", "audio/wav"))

    assert response.status_code == 201, response.json()
    assert response.json()["audio"]["content_type"] == "audio/wav"
    assert IncidentAudio.objects.get().audio.name.endswith(".wav")


def test_a_clip_below_the_threshold_is_kept_for_review_on_the_report(device_client, beacon, dispatcher):
    response = post(device_client, beacon, confidence=0.5, audio=clip(ogg_opus()))

    assert response.status_code == 200 and response.json()["status"] == "logged_only"
    assert response.json()["audio"]["duration_s"] > 3
    assert IncidentAudio.objects.get().incident is None
    [event] = client_for(dispatcher).get(reverse("ai-event-list")).json()["results"]
    assert len(event["audio"]) == 1


def header_only_wav() -> bytes:
    # A RIFF/WAVE header that claims a second of sound but carries none.
    return b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + \
        b"data" + struct.pack("<I", 0)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "is empty"),
        (b"ID3\x03\x00" + bytes(500), "is not an Ogg"),
        (image_bytes(), "is not an Ogg"),
        (b"OggS" + bytes(2000), "could not be decoded"),
        (header_only_wav(), "holds no sound"),
        (wav(61.0), "longer than 60 seconds"),
    ],
    ids=["empty", "mp3", "jpeg", "ogg-garbage", "wav-without-sound", "too-long"],
)
def test_a_clip_that_does_not_decode_is_refused_and_nothing_is_stored(device_client, beacon, settings, data, reason):
    response = post(device_client, beacon, audio=clip(data), images=[upload()])

    assert response.status_code == 400
    assert reason in response.json()["fields"]["audio"][0]
    assert_nothing_stored(settings)


def test_a_clip_over_the_size_limit_is_refused(device_client, beacon, settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    response = post(device_client, beacon, audio=clip(ogg_opus()))

    assert response.status_code == 400
    assert "larger than the limit of 1000 bytes" in response.json()["fields"]["audio"][0]
    assert_nothing_stored(settings)


def test_the_admin_incident_page_links_the_clip_to_the_authenticated_download(device_client, beacon, admin_user, client):
    post(device_client, beacon, audio=clip(ogg_opus()))
    incident, stored = Incident.objects.get(), IncidentAudio.objects.get()
    client.force_login(admin_user)

    response = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))

    assert response.status_code == 200
    assert reverse("incident-audio-download", args=[stored.pk]) in response.content.decode()
