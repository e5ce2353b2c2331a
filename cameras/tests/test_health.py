"""Camera health: heartbeats, the offline rule on a fake clock, grouped camera_offline incidents, no storms."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cameras.models import Camera
from cameras.services import camera_heartbeat, cameras_check_offline
from incidents.models import AlertDelivery, Incident
from realtime.models import OutboxEvent

GRACE, RECOVERY = 30, 20


@pytest.fixture(autouse=True)
def _timing(settings):
    settings.CAMERA_OFFLINE_GRACE_SECONDS = GRACE
    settings.CAMERA_RECOVERY_SECONDS = RECOVERY
    settings.ALERT_EMAIL_RECIPIENTS = ["control-room@example.org"]


def beat(device, t, state="ok", cameras=("library-entrance",)):
    return camera_heartbeat(device=device, reports=[{"camera_id": c, "state": state, "fps": 2.0} for c in cameras],
                            now=t)


def offline_incidents():
    return Incident.objects.filter(kind="camera_offline")


def test_a_silent_camera_goes_offline_after_the_grace_period_and_raises_one_incident(device, entrance_camera):
    t0 = timezone.now()
    beat(device, t0)
    assert cameras_check_offline(now=t0 + timedelta(seconds=GRACE)) == []
    changed = cameras_check_offline(now=t0 + timedelta(seconds=GRACE + 1))

    assert [c.camera_id for c in changed] == ["library-entrance"]
    incident = offline_incidents().get()
    assert incident.priority == "High" and incident.status == "CREATED"
    assert "library-entrance" in incident.description and "no heartbeat" in incident.description
    assert AlertDelivery.objects.filter(incident=incident).count() == 1
    health = OutboxEvent.objects.filter(event="camera_health").last()
    assert health.payload["health"] == "offline" and health.payload["camera_id"] == "library-entrance"
    # Checking again changes nothing.
    assert cameras_check_offline(now=t0 + timedelta(seconds=GRACE + 60)) == []
    assert offline_incidents().count() == 1


def test_a_camera_reporting_down_is_offline_at_once(device, entrance_camera):
    beat(device, timezone.now(), state="down")
    entrance_camera.refresh_from_db()
    assert entrance_camera.health == "offline"
    assert "reports its stream down" in offline_incidents().get().description


def test_a_camera_back_is_resolved_with_a_note_only_after_the_recovery_time(device, entrance_camera):
    t0 = timezone.now()
    beat(device, t0)
    cameras_check_offline(now=t0 + timedelta(seconds=GRACE + 1))
    t1 = t0 + timedelta(seconds=100)
    beat(device, t1)
    cameras_check_offline(now=t1 + timedelta(seconds=RECOVERY - 1))
    assert offline_incidents().get().is_open

    beat(device, t1 + timedelta(seconds=RECOVERY))
    incident = offline_incidents().get()
    assert incident.status == "RESOLVED"
    assert "back online" in incident.resolution_note and "library-entrance" in incident.resolution_note
    entrance_camera.refresh_from_db()
    assert entrance_camera.health == "ok" and entrance_camera.offline_incident is None


def test_a_flapping_camera_raises_one_incident_and_one_alert_not_a_storm(device, entrance_camera):
    t = timezone.now()
    beat(device, t)
    for _ in range(10):  # down, back for less than the recovery time, down again...
        beat(device, t, state="down")
        t += timedelta(seconds=RECOVERY / 2)
        beat(device, t)
        t += timedelta(seconds=RECOVERY / 2 - 1)
        cameras_check_offline(now=t)
    assert offline_incidents().count() == 1
    assert AlertDelivery.objects.count() == 1
    assert OutboxEvent.objects.filter(event="incident_created").count() == 1


def test_cameras_of_one_beacon_going_offline_together_share_one_incident(device, entrance_camera, stairs_camera):
    t0 = timezone.now()
    beat(device, t0, cameras=("library-entrance", "library-stairs"))
    cameras_check_offline(now=t0 + timedelta(seconds=GRACE + 1))

    incident = offline_incidents().get()
    assert incident.signal_count == 2
    # One camera back is not enough to resolve it.
    t1 = t0 + timedelta(seconds=GRACE + 2)
    beat(device, t1, cameras=("library-entrance",))
    cameras_check_offline(now=t1 + timedelta(seconds=RECOVERY))
    incident.refresh_from_db()
    assert incident.is_open
    beat(device, t1 + timedelta(seconds=RECOVERY), cameras=("library-entrance", "library-stairs"))
    beat(device, t1 + timedelta(seconds=2 * RECOVERY), cameras=("library-entrance", "library-stairs"))
    incident.refresh_from_db()
    assert incident.status == "RESOLVED" and "library-stairs" in incident.resolution_note


def test_a_disabled_or_never_heard_camera_raises_nothing(device, entrance_camera, stairs_camera):
    t0 = timezone.now()
    beat(device, t0, cameras=("library-stairs",))
    Camera.objects.filter(camera_id="library-stairs").update(enabled=False)
    cameras_check_offline(now=t0 + timedelta(hours=1))
    beat(device, t0 + timedelta(hours=1), state="down", cameras=("library-stairs",))
    assert not offline_incidents().exists()
    assert Camera.objects.get(camera_id="library-stairs").reported_state == "down"


# The heartbeat API --------------------------------------------------------------------------------


def test_a_worker_heartbeat_records_each_cameras_figures_and_names_unknown_ones(device_client, entrance_camera):
    response = device_client.post("/api/devices/heartbeat/", {"cameras": [
        {"camera_id": "library-entrance", "state": "reconnecting", "fps": 1.5, "dropped_frames": 3,
         "last_frame_at": "2026-12-01T10:00:00Z", "model_latency_ms": 42.0, "motion_share": 0.25},
        {"camera_id": "not-registered", "state": "ok"},
    ]}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["cameras"]["library-entrance"] == {"health": "reconnecting", "focus": False, "focus_sos": [],
                                                    "snapshot_requests": []}
    assert body["unknown_cameras"] == ["not-registered"]
    entrance_camera.refresh_from_db()
    assert entrance_camera.stats == {"fps": 1.5, "dropped_frames": 3, "model_latency_ms": 42.0, "motion_share": 0.25}
    assert entrance_camera.last_frame_at.isoformat() == "2026-12-01T10:00:00+00:00"


def test_a_device_cannot_send_heartbeats_for_another_devices_camera(roaming_client, entrance_camera):
    response = roaming_client.post("/api/devices/heartbeat/", {"cameras": [
        {"camera_id": "library-entrance", "state": "down"}]}, format="json")
    assert response.status_code == 403
    entrance_camera.refresh_from_db()
    assert entrance_camera.last_heartbeat_at is None and not offline_incidents().exists()


@pytest.mark.parametrize("body", [
    {}, {"cameras": []}, {"cameras": "x"}, {"cameras": [{"camera_id": "library-entrance", "state": "sleeping"}]},
    {"cameras": [{"camera_id": "library-entrance", "state": "ok", "motion_share": 2}]},
    {"cameras": [{"camera_id": "library-entrance", "state": "ok", "fps": -1}]},
    {"cameras": [{"state": "ok"}]}, {"cameras": [None]},
    {"cameras": [{"camera_id": "library-entrance", "state": "ok"}, {"camera_id": "library-entrance", "state": "ok"}]},
])
def test_a_malformed_heartbeat_is_refused_and_changes_nothing(device_client, entrance_camera, body):
    response = device_client.post("/api/devices/heartbeat/", body, format="json")
    assert response.status_code == 400, response.content
    assert "ErrorDetail" not in response.content.decode() and response.json()["fields"]
    entrance_camera.refresh_from_db()
    assert entrance_camera.last_heartbeat_at is None


def test_heartbeats_need_a_device_key(client_for, dispatcher, entrance_camera):
    body = {"cameras": [{"camera_id": "library-entrance", "state": "ok"}]}
    assert client_for(None).post("/api/devices/heartbeat/", body, format="json").status_code in (401, 403)
    # A responder's token is not a device key.
    assert client_for(dispatcher).post("/api/devices/heartbeat/", body, format="json").status_code == 401
