"""The publisher: multipart posts with the device key, a disk spool that survives outages and restarts, in order."""

import json
import time

import pytest

from detection.config import ApiSettings, PublisherSettings
from detection.events import ViolenceEvent
from detection.publisher import HttpPublisher, Spool

KEYS = {"CAM-01": "nkd_secret"}


def event(n, images=2):
    return ViolenceEvent(
        camera_id="gate", device_id="CAM-01", beacon_id="main-gate", confidence_score=0.9,
        description=f"fight {n}", details={"n": n, "female": 1, "priority_hint": "critical"},
        images=[f"jpeg-{n}-{i}".encode() for i in range(images)],
    )


def publisher(url, spool_dir, **settings):
    api = ApiSettings(base_url=url, timeout_s=2)
    options = {"spool_dir": str(spool_dir), "retry_initial_s": 0.05, "retry_max_s": 0.2, **settings}
    return HttpPublisher(api, PublisherSettings(**options), KEYS)


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_an_event_is_posted_as_multipart_with_the_device_key_and_its_images(fake_api, tmp_path):
    worker = publisher(fake_api.url, tmp_path)
    worker.start()
    worker.send(event(1, images=3))
    assert worker.drain(10)
    worker.stop()
    (request,) = fake_api.requests
    assert request.path == "/api/ai/violence-detected/"
    assert request.headers["Authorization"] == "Device nkd_secret"
    assert request.fields["beacon_id"] == "main-gate"
    assert request.fields["device_id"] == "CAM-01"
    assert request.fields["confidence_score"] == "0.9000"
    assert request.fields["description"] == "fight 1"
    assert json.loads(request.fields["details"])["priority_hint"] == "critical"
    assert request.images == [b"jpeg-1-0", b"jpeg-1-1", b"jpeg-1-2"]
    assert Spool(tmp_path).names() == []


def test_events_are_spooled_while_the_api_is_down_and_delivered_in_order_after_a_restart(fake_api, tmp_path):
    down = publisher("http://127.0.0.1:9", tmp_path)  # nothing listens on the discard port
    down.start()
    for n in range(1, 4):
        down.send(event(n))
    wait_until(lambda: down.stats.failed_attempts >= 2)
    down.stop()
    assert len(Spool(tmp_path).names()) == 3 and fake_api.requests == []

    back = publisher(fake_api.url, tmp_path)  # a new process, same spool directory
    back.start()
    back.send(event(4))
    assert back.drain(10)
    back.stop()
    assert [r.fields["description"] for r in fake_api.requests] == ["fight 1", "fight 2", "fight 3", "fight 4"]
    assert back.stats.delivered == 4


@pytest.mark.parametrize("status", [500, 503, 408, 429])
def test_server_errors_timeouts_and_throttling_are_retried_until_delivered(fake_api, tmp_path, status):
    fake_api.statuses = [status, status]
    worker = publisher(fake_api.url, tmp_path)
    worker.start()
    worker.send(event(1))
    assert worker.drain(10)
    worker.stop()
    assert len(fake_api.requests) == 3
    assert worker.stats.delivered == 1 and worker.stats.failed_attempts == 2


@pytest.mark.parametrize("status", [400, 401, 404])
def test_a_rejected_event_is_dropped_from_the_queue_and_kept_in_the_rejected_folder(fake_api, tmp_path, status):
    fake_api.statuses = [status]
    worker = publisher(fake_api.url, tmp_path)
    worker.start()
    worker.send(event(1))
    worker.send(event(2))
    assert worker.drain(10)
    worker.stop()
    assert [r.fields["description"] for r in fake_api.requests] == ["fight 1", "fight 2"]
    (rejected,) = (tmp_path / "rejected").iterdir()
    reason = json.loads((rejected / "rejection.json").read_text())
    assert reason["status"] == status and reason["response"] == {"error": f"scripted {status}"}
    assert json.loads((rejected / "event.json").read_text())["description"] == "fight 1"
    assert (rejected / "image-1.jpg").read_bytes() == b"jpeg-1-0"


def test_an_event_for_a_device_without_a_configured_key_is_rejected_not_retried_forever(fake_api, tmp_path):
    worker = publisher(fake_api.url, tmp_path)
    worker.device_keys = {}
    worker.start()
    worker.send(event(1))
    assert worker.drain(10)
    worker.stop()
    assert fake_api.requests == []
    assert worker.stats.rejected == 1


def test_sending_never_waits_for_a_slow_api(fake_api, tmp_path):
    fake_api.delay_s = 1.0
    worker = publisher(fake_api.url, tmp_path)
    worker.start()
    started = time.monotonic()
    for n in range(5):
        worker.send(event(n))
    assert time.monotonic() - started < 0.5
    worker.stop()


def test_a_half_written_event_left_by_a_crash_is_discarded_on_start(tmp_path):
    (tmp_path / "incoming" / "00000000000000000001-000000-gate").mkdir(parents=True)
    spool = Spool(tmp_path)
    assert list(spool.incoming.iterdir()) == [] and spool.names() == []


def test_an_event_whose_evidence_vanished_from_the_spool_is_rejected_and_delivery_goes_on(fake_api, tmp_path):
    worker = publisher(fake_api.url, tmp_path)
    broken = worker.spool.put(event(1))
    (broken / "image-1.jpg").unlink()
    worker.start()
    worker.send(event(2))
    assert worker.drain(10)
    worker.stop()
    assert [r.fields["description"] for r in fake_api.requests] == ["fight 2"]
    reason = json.loads((tmp_path / "rejected" / broken.name / "rejection.json").read_text())
    assert "unreadable evidence" in reason["error"]


def test_every_attempt_at_one_event_carries_the_same_idempotency_key_kept_in_its_spool_entry(fake_api, tmp_path):
    fake_api.statuses = [503, 503]
    worker = publisher(fake_api.url, tmp_path)
    worker.start()
    worker.send(event(1))
    assert worker.drain(10)
    worker.send(event(2))
    assert worker.drain(10)
    worker.stop()
    keys = [request.headers["Idempotency-Key"] for request in fake_api.requests]
    assert len(keys) == 4 and keys[0] == keys[1] == keys[2] != keys[3]
    assert all(len(key) == 32 for key in keys)


def test_a_spooled_event_keeps_its_idempotency_key_across_a_restart(fake_api, tmp_path):
    path = Spool(tmp_path).put(event(1))
    spooled_key = json.loads((path / "event.json").read_text())["idempotency_key"]
    worker = publisher(fake_api.url, tmp_path)
    worker.start()
    assert worker.drain(10)
    worker.stop()
    assert fake_api.requests[0].headers["Idempotency-Key"] == spooled_key
