"""`POST /api/ai/camera-tamper/`: a worker's tamper report becomes a camera_tamper incident with its snapshot."""

import io

from PIL import Image

from incidents.models import Incident


def jpeg() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 10, 10)).save(data, "JPEG")
    data.seek(0)
    data.name = "snapshot.jpg"
    return data


def test_a_tamper_report_opens_a_high_priority_camera_tamper_incident_with_its_snapshot(device_client, beacon):
    response = device_client.post("/api/ai/camera-tamper/", {
        "beacon_id": beacon.beacon_id, "confidence_score": "1.0", "images": [jpeg()],
        "description": "Camera library-entrance tampered with: the lens is covered.",
        "details": '{"camera": "library-entrance", "tamper": "covered"}',
    }, format="multipart")

    assert response.status_code == 201, response.json()
    incident = Incident.objects.get()
    assert (incident.kind, incident.priority) == ("camera_tamper", "High")
    assert incident.images.count() == 1
    assert incident.signals.get().signal_type == "CAMERA_TAMPER"


def test_responders_can_filter_the_incident_list_by_the_camera_kinds(client_for, dispatcher, device_client, beacon):
    device_client.post("/api/ai/camera-tamper/", {"beacon_id": beacon.beacon_id, "confidence_score": 1.0,
                                                  "description": "frozen"}, format="json")
    client = client_for(dispatcher)
    listed = client.get("/api/incidents/?kind=camera_tamper,camera_offline").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["kind"] for row in rows] == ["camera_tamper"]
