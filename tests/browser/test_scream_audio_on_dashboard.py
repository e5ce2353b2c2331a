"""A microphone reports a scream with its clip; the dispatcher opens the incident and the clip plays in the browser."""

import io

import av
import httpx
import numpy as np
import pytest

from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def scream_clip(seconds: float = 3.0) -> bytes:
    """Ogg Opus at 16 kHz mono, as the detection worker sends it."""
    t = np.arange(int(seconds * 16000)) / 16000
    samples = (0.5 * np.sin(2 * np.pi * 2200 * t)).astype(np.float32).reshape(1, -1)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()


def test_a_dispatcher_can_play_the_scream_clip_of_an_incident(dashboard_for, dispatcher, device, live_server):
    dashboard = dashboard_for(dispatcher)
    response = httpx.post(
        f"{live_server.url}/api/ai/scream-detected/",
        headers={"Authorization": f"Device {device.raw_key}"},
        data={"beacon_id": device.beacon.beacon_id, "confidence_score": "0.91", "description": "Screaming heard"},
        files=[("audio", ("clip.ogg", scream_clip(), "audio/ogg"))],
        timeout=10,
    )
    assert response.status_code == 201, response.text
    incident_id = response.json()["incident_id"]

    row = f"#queue li[data-id='{incident_id}']"
    dashboard.wait_for_selector(row)
    dashboard.click(row)
    player = dashboard.wait_for_selector(f"#detail [data-incident-id='{incident_id}'] .evidence-audio audio")
    # Chromium has decoded the clip's header from the fetched bytes: it knows how long the scream lasts.
    dashboard.wait_for_function("a => a.readyState >= 1 && Math.abs(a.duration - 3) < 0.1", arg=player)
    assert "3.0 s" in dashboard.inner_text(f"#detail [data-incident-id='{incident_id}'] .evidence-audio")
