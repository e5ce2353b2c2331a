"""A full or read-only evidence disk never costs an alert: the incident, its event and its alerts come
first; images that could not be stored are reported on the incident and in the response; no partial file
is left behind."""

import errno

import pytest
from django.core.files.storage import FileSystemStorage
from django.urls import reverse

from incidents import services
from incidents.models import AlertDelivery, Incident, IncidentImage
from incidents.tests.factories import jpegs, report
from realtime.models import OutboxEvent

VIOLENCE = reverse("ai-violence-detected")


class FailingDisk(FileSystemStorage):
    """Local storage on a disk that fails after `room` bytes, the way a real one does: the bytes that
    fitted are on disk, then the write raises (ENOSPC: full; EROFS: remounted read-only)."""

    def __init__(self, *, room: int, error: int, **kwargs):
        super().__init__(**kwargs)
        self.room, self.error = room, error

    def _save(self, name, content):
        path = self.path(name)
        self._ensure_directory(path)
        data = content.read()
        written = min(len(data), self.room)
        with open(path, "wb") as handle:
            handle.write(data[:written])
        self.room -= written
        if written < len(data):
            raise OSError(self.error, "No space left on device" if self.error == errno.ENOSPC else "Read-only")
        return name

    def _ensure_directory(self, path):
        import os

        os.makedirs(os.path.dirname(path), exist_ok=True)


@pytest.fixture
def disk(settings, monkeypatch):
    def install(*, room: int, error: int = errno.ENOSPC):
        storage = FailingDisk(room=room, error=error, location=settings.MEDIA_ROOT)
        monkeypatch.setattr(services, "evidence_storage", lambda: storage)
        return storage
    return install


def _files(settings):
    return sorted(path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()) \
        if settings.MEDIA_ROOT.exists() else []


@pytest.mark.django_db
def test_a_full_disk_still_opens_the_incident_and_its_alerts(device_client, beacon, disk, settings):
    settings.ALERT_EMAIL_RECIPIENTS = ["control@example.org"]
    first_size = len(jpegs(1)[0].read())
    disk(room=first_size + 10)  # The first image fits, the second is cut short, the third finds no room.
    response = device_client.post(VIOLENCE, {**report(beacon.beacon_id), "images": jpegs(3)}, format="multipart")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["images_not_stored"] == [{"number": 2, "reason": "disk full"}, {"number": 3, "reason": "disk full"}]
    assert body["evidence_message"] == "2 images could not be stored: disk full"
    assert len(body["images"]) == 1
    incident = Incident.objects.get()
    assert AlertDelivery.objects.filter(incident=incident).count() == 1
    assert OutboxEvent.objects.filter(event="incident_created").count() == 1
    entry = incident.audit_trail.get(action="evidence_not_stored")
    assert entry.details["message"] == "2 images could not be stored: disk full"
    # Only the one whole image is on disk, and it is the one recorded.
    assert [path.name for path in _files(settings)] == [IncidentImage.objects.get().image.name.rsplit("/", 1)[1]]


@pytest.mark.django_db
def test_a_read_only_disk_keeps_no_evidence_but_the_report_stands(device_client, beacon, disk, settings):
    disk(room=0, error=errno.EROFS)
    response = device_client.post(VIOLENCE, {**report(beacon.beacon_id), "images": jpegs(2)}, format="multipart")
    assert response.status_code == 201
    assert response.json()["evidence_message"] == "2 images could not be stored: storage is read-only"
    assert Incident.objects.count() == 1 and IncidentImage.objects.count() == 0
    assert _files(settings) == []


@pytest.mark.django_db
def test_a_report_below_the_threshold_says_which_images_were_lost(device_client, beacon, disk, settings):
    disk(room=0)
    response = device_client.post(VIOLENCE, {**report(beacon.beacon_id, confidence=0.1), "images": jpegs(1)},
                                  format="multipart")
    assert response.status_code == 200
    assert response.json()["images_not_stored"] == [{"number": 1, "reason": "disk full"}]


@pytest.mark.django_db
def test_evidence_rows_that_cannot_be_recorded_leave_no_file_and_no_lost_alert(device, beacon, settings, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_attach_evidence", fail)
    result = services.ai_detection_report(
        kind="violence", device=device, beacon_id=beacon.beacon_id, confidence_score=0.9, description="x",
        images=jpegs(2),
    )
    assert result.incident is not None
    assert [failure.reason for failure in result.evidence_failures] == ["could not be recorded"] * 2
    assert _files(settings) == []


@pytest.mark.django_db
def test_a_large_but_legal_image_over_the_pixel_cap_is_refused_before_it_is_decoded(device_client, beacon):
    from incidents.tests.factories import image_bytes, upload

    big = image_bytes("PNG", size=(4000, 3100), color=(0, 0, 0))  # 12.4 megapixels, a small file
    response = device_client.post(VIOLENCE, {**report(beacon.beacon_id), "images": [upload("big.png", big)]},
                                  format="multipart")
    assert response.status_code == 400
    assert "pixels" in response.json()["error"]
    assert Incident.objects.count() == 0
