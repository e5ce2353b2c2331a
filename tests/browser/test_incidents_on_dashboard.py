"""A camera reports violence; the dispatcher's dashboard shows the incident at its beacon with the evidence image."""

import io

import httpx
import pytest
from PIL import Image, ImageDraw

from incidents.models import Incident
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def camera_frame(width=320, height=240) -> bytes:
    """A real JPEG, as the detection worker sends: a dark frame with two figures."""
    image = Image.new("RGB", (width, height), (30, 34, 40))
    draw = ImageDraw.Draw(image)
    draw.rectangle((90, 80, 130, 200), fill=(200, 60, 60))
    draw.rectangle((170, 70, 210, 200), fill=(60, 90, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def report_violence(base_url: str, device, frame: bytes) -> dict:
    response = httpx.post(
        f"{base_url}/api/ai/violence-detected/",
        headers={"Authorization": f"Device {device.raw_key}"},
        data={"beacon_id": device.beacon.beacon_id, "confidence_score": "0.93",
              "description": "Violence detected near the entrance"},
        files=[("images", ("frame.jpg", frame, "image/jpeg"))],
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_an_incident_from_a_camera_appears_live_with_its_evidence_and_can_be_resolved(
    dashboard_for, dispatcher, device, live_server
):
    dashboard = dashboard_for(dispatcher)

    incident_id = report_violence(live_server.url, device, camera_frame())["incident_id"]

    row = f"#queue li[data-id='{incident_id}']"
    dashboard.wait_for_selector(row, timeout=2000)
    dashboard.wait_for_selector(f".nk-pin-incident[data-id='{incident_id}']", timeout=2000)
    assert "Library Entrance" in dashboard.inner_text("#alert-text")
    assert int(dashboard.get_attribute("body", "data-beeps") or 0) >= 1

    # The evidence is fetched with the officer's credential and shown as the image it is.
    dashboard.click(row)
    image = dashboard.wait_for_selector(f"#detail [data-incident-id='{incident_id}'] .evidence img")
    dashboard.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=image)

    dashboard.click("#detail button:has-text('Acknowledge')")
    dashboard.wait_for_selector(f"{row} .sub:has-text('acknowledged')")
    # Resolving asks first, with a note that cannot be left empty.
    dashboard.click("#detail [data-action=resolve]")
    assert dashboard.is_disabled("#confirm-dialog button[value=ok]")
    dashboard.fill("#confirm-note", "Crowd dispersed; no injuries.")
    dashboard.click("#confirm-dialog button[value=ok]")
    dashboard.wait_for_selector(row, state="detached")
    dashboard.wait_for_selector(f".nk-pin-incident[data-id='{incident_id}']", state="detached")
    incident = Incident.objects.get(pk=incident_id)
    assert incident.status == Incident.Status.RESOLVED
    assert incident.resolution_note == "Crowd dispersed; no injuries."
