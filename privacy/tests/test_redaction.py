"""Responders see evidence with faces blurred: a derivative made on the server, cached; the original untouched."""

import hashlib

import cv2
import numpy as np
import pytest
from django.urls import reverse

from incidents.tests.factories import image_bytes
from naarikavach.testing import client_for
from privacy import redaction
from privacy.models import RedactedImage
from privacy.tests.helpers import grant_unredacted, incident_with_image, scene_with_face

# A face's pixels vary by thousands (grey levels squared); blurred, by a few dozen at most.
BLURRED_VARIANCE = 150


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def download(user, image) -> bytes:
    response = client_for(user).get(reverse("incident-image-download", args=[image.pk]))
    assert response.status_code == 200, response
    assert response["Content-Type"] == "image/png"
    return b"".join(response.streaming_content)


@pytest.fixture
def face_evidence(device, beacon):
    data, face = scene_with_face()
    _, image = incident_with_image(device, beacon, data)
    return image, data, face


def test_the_test_face_is_one_the_detector_finds():
    data, (x, y, size) = scene_with_face()

    faces = redaction.detect_faces(decode(data))

    assert any(fx < x + size / 2 < fx + fw and fy < y + size / 2 < fy + fh for fx, fy, fw, fh in faces)


def test_the_face_is_blurred_in_what_responders_see_and_the_rest_is_unchanged(face_evidence, officer_a):
    image, original_bytes, (x, y, size) = face_evidence
    original = decode(original_bytes)

    shown = decode(download(officer_a, image))

    face = (slice(y + size // 4, y + 3 * size // 4), slice(x + size // 4, x + 3 * size // 4))
    assert original[face].var() > 1000
    assert shown[face].var() < BLURRED_VARIANCE
    # Far from the face (outside the box grown by its margin) not one pixel differs.
    untouched = np.ones(original.shape[:2], bool)
    untouched[max(0, y - size):y + 2 * size, max(0, x - size):x + 2 * size] = False
    assert np.array_equal(shown[untouched], original[untouched])
    assert redaction.detect_faces(shown) == []


def test_the_original_is_kept_intact(face_evidence, officer_a):
    image, original_bytes, _ = face_evidence

    download(officer_a, image)

    stored = image.image.storage.open(image.image.name).read()
    assert stored == original_bytes
    assert hashlib.sha256(stored).hexdigest() == image.sha256


def test_the_derivative_is_made_once_and_then_served_from_the_cache(face_evidence, officer_a, monkeypatch):
    image, _, _ = face_evidence
    first = download(officer_a, image)

    def fail(data):
        raise AssertionError("the derivative was made again")

    monkeypatch.setattr(redaction, "blur_faces", fail)

    assert download(officer_a, image) == first
    derivative = RedactedImage.objects.get(image=image)
    assert derivative.faces_found >= 1
    assert derivative.sha256 == hashlib.sha256(first).hexdigest()


def test_a_missing_cached_derivative_is_made_again(face_evidence, officer_a):
    image, _, _ = face_evidence
    first = download(officer_a, image)
    derivative = RedactedImage.objects.get(image=image)
    derivative.file.storage.delete(derivative.file.name)

    assert download(officer_a, image) == first


def test_an_image_without_faces_is_shown_pixel_for_pixel(device, beacon, officer_a):
    data = image_bytes("PNG", size=(64, 48), color=(10, 200, 30))
    _, image = incident_with_image(device, beacon, data)

    assert np.array_equal(decode(download(officer_a, image)), decode(data))


def test_the_unredacted_original_shows_the_face(face_evidence, admin_user, officer_a):
    image, original_bytes, _ = face_evidence
    grant_unredacted(officer_a)

    response = client_for(officer_a).post(reverse("privacy-image-unredacted", args=[image.pk]),
                                          {"reason": "Identify the attacker"})

    assert b"".join(response.streaming_content) == original_bytes


def test_the_derivative_carries_no_metadata_of_the_original(device, beacon, officer_a):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x9003] = "2026:12:01 10:00:00"  # DateTimeOriginal
    Image.new("RGB", (64, 48), (50, 60, 70)).save(buffer, format="JPEG", exif=exif)
    _, image = incident_with_image(device, beacon, buffer.getvalue())
    assert b"PhoneMaker" in image.image.storage.open(image.image.name).read()

    shown = download(officer_a, image)

    assert b"PhoneMaker" not in shown and not Image.open(io.BytesIO(shown)).getexif()


def test_a_derivative_made_by_an_older_detector_is_made_again(face_evidence, officer_a, monkeypatch):
    image, _, _ = face_evidence
    download(officer_a, image)
    RedactedImage.objects.filter(image=image).update(detector="older-detector")
    made = []
    real = redaction.blur_faces
    monkeypatch.setattr(redaction, "blur_faces", lambda data: made.append(1) or real(data))

    download(officer_a, image)

    assert made == [1]
    assert RedactedImage.objects.get(image=image).detector == redaction.DETECTOR_VERSION


def test_a_face_in_a_large_frame_is_found_in_the_smaller_copy_and_blurred_at_full_size(settings):
    settings.PRIVACY_FACE_DETECTION_MAX_SIDE = 320
    data, (x, y, size) = scene_with_face(face_at=(500, 200), face_size=240, shape=(720, 960))

    redacted = redaction.blur_faces(data)

    shown = decode(redacted.data)
    face = (slice(y + size // 4, y + 3 * size // 4), slice(x + size // 4, x + 3 * size // 4))
    assert redacted.faces and decode(data)[face].var() > 1000 and shown[face].var() < BLURRED_VARIANCE


def test_derivatives_can_be_made_ahead_of_the_first_view(device, beacon, officer_a, monkeypatch):
    import io

    from django.core.management import call_command

    _, first = incident_with_image(device, beacon)
    _, second = incident_with_image(device, beacon)
    out = io.StringIO()

    call_command("make_blurred_derivatives", stdout=out)

    assert "Made 2" in out.getvalue()
    assert RedactedImage.objects.filter(image__in=[first, second]).count() == 2
    monkeypatch.setattr(redaction, "blur_faces", lambda data: pytest.fail("made again at view time"))
    download(officer_a, first)
