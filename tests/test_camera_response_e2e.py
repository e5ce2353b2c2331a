"""The issue's "done means", end to end over HTTP with a real worker process (tiny random checkpoints): an SOS
raised inside a camera's coverage shows that camera and, within seconds, its pre-roll frames and clip; a
dispatcher's snapshot comes back from the worker through the platform, faces blurred."""

import time

import cv2
import httpx
import numpy as np
import pytest

from accounts.services import token_issue
from cameras.services import camera_create
from incidents.services import device_create
from incidents.tests.fixtures import _private_evidence_dir, beacon  # noqa: F401  (fixtures)
from tests.test_cameras_e2e import start_worker, wait_for, worker_config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WITHIN_S = 10  # "within seconds": heartbeats every 0.5 s here, then the spool's delivery


def test_an_sos_in_view_gets_the_camera_its_pre_roll_and_a_snapshot_on_request_from_a_running_worker(
    live_server, beacon, dispatcher, tmp_path  # noqa: F811
):
    device, key = device_create(device_id="CAM-01", beacon=beacon)
    camera_create(camera_id="library-entrance", name="Library entrance", device=device, beacon=beacon,
                  latitude=22.5726, longitude=88.3639, heading_deg=0, fov_deg=90, range_m=60)
    config = worker_config(tmp_path, api_url=live_server.url, beacon_id=beacon.beacon_id, device_key=key,
                           preroll_s=3, preroll_frames=3, preroll_clip=True)
    api = httpx.Client(base_url=live_server.url, timeout=10,
                       headers={"Authorization": f"Token {token_issue(user=dispatcher)}"})

    def camera():
        return api.get("/api/cameras/library-entrance/").json()

    worker = start_worker(config)
    try:
        assert wait_for(lambda: camera()["health"] == "ok" and camera()["last_frame_at"], 120)
        assert camera()["stats"]["fps"] is not None

        raised_at = time.monotonic()
        sos_id = httpx.post(f"{live_server.url}/api/create-sos/", json={
            "name": "Asha", "sos_type": 0, "initial_latitude": 22.5728, "initial_longitude": 88.3639}).json()["sos_id"]
        detail = api.get(f"/api/sos/{sos_id}/").json()
        assert [c["camera_id"] for c in detail["cameras"]] == ["library-entrance"]
        assert camera()["open_sos"] == [sos_id]

        frames = []
        assert wait_for(lambda: frames.extend(api.get(f"/api/sos/{sos_id}/camera-evidence/").json()) or frames,
                        WITHIN_S)
        assert time.monotonic() - raised_at <= WITHIN_S
        assert 1 <= len(frames) <= 4 and all(f["camera_id"] == "library-entrance" for f in frames)
        assert api.get(frames[0]["image"]).status_code == 200
        clips = []
        assert wait_for(lambda: clips.extend(api.get(f"/api/sos/{sos_id}/camera-clips/").json()) or clips, WITHIN_S)
        assert clips[0]["frames"] == len(frames) and api.get(clips[0]["video"]).content[:4] == b"\x1a\x45\xdf\xa3"

        asked = api.post("/api/cameras/library-entrance/snapshot/")
        assert asked.status_code == 202
        snapshot_url = f"/api/cameras/snapshots/{asked.json()['snapshot_id']}/"
        assert wait_for(lambda: api.get(snapshot_url).json()["status"] == "ready", WITHIN_S)
        picture = api.get(api.get(snapshot_url).json()["image"])
        assert picture.headers["Content-Type"] == "image/png"
        image = cv2.imdecode(np.frombuffer(picture.content, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[0] > 0
    finally:
        worker.kill()
        worker.wait(timeout=10)
