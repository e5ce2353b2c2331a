"""Evidence on local storage: where it is kept, its hash, and that only responders can download it."""

import hashlib
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from incidents.models import IncidentImage
from incidents.tests.factories import image_bytes, report, upload
from incidents.tests.fixtures import device_client_for
from naarikavach.testing import client_for

VIOLENCE = reverse("ai-violence-detected")


@pytest.fixture
def stored_image(device_client, beacon):
    frame = image_bytes(color=(1, 2, 3))
    response = device_client.post(VIOLENCE, {**report(beacon.beacon_id), "images": [upload("evidence.jpg", frame)]},
                                  format="multipart")
    assert response.status_code == 201
    image = IncidentImage.objects.get()
    image.original_bytes = frame
    return image


def test_images_are_kept_privately_under_a_dated_unguessable_name_with_their_sha256(stored_image, settings):
    today = timezone.now()
    uuid4 = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"
    pattern = rf"incidents/{today:%Y/%m/%d}/{uuid4}\.jpg"

    assert re.fullmatch(pattern, stored_image.image.name)
    on_disk = settings.MEDIA_ROOT / stored_image.image.name
    assert on_disk.read_bytes() == stored_image.original_bytes
    assert on_disk.stat().st_mode & 0o777 == 0o600
    assert stored_image.sha256 == hashlib.sha256(stored_image.original_bytes).hexdigest()
    assert (stored_image.content_type, stored_image.size_bytes) == ("image/jpeg", len(stored_image.original_bytes))


def test_the_extension_follows_the_content_not_the_file_name(device_client, beacon):
    device_client.post(VIOLENCE, {**report(beacon.beacon_id), "images": [upload("photo.jpg", image_bytes("PNG"))]},
                       format="multipart")

    image = IncidentImage.objects.get()
    assert image.image.name.endswith(".png")
    assert image.content_type == "image/png"


def test_an_officer_downloads_the_evidence_through_the_authenticated_view(stored_image, officer_a):
    response = client_for(officer_a).get(reverse("incident-image-download", args=[stored_image.pk]))

    assert response.status_code == 200
    # Responders are shown a derivative with faces blurred (privacy.redaction): a PNG, pixel for pixel the
    # original where there is no face.
    shown = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert shown.tobytes() == Image.open(io.BytesIO(stored_image.original_bytes)).convert("RGB").tobytes()
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"


def test_a_signed_in_dashboard_session_can_download_evidence(stored_image, dispatcher, client):
    client.force_login(dispatcher)

    response = client.get(reverse("incident-image-download", args=[stored_image.pk]))

    assert response.status_code == 200


def test_anonymous_callers_citizens_and_devices_cannot_download_evidence(stored_image, citizen, device):
    url = reverse("incident-image-download", args=[stored_image.pk])

    assert client_for(None).get(url).status_code == 401
    assert client_for(citizen).get(url).status_code == 403
    assert device_client_for(device.raw_key).get(url).status_code == 403


def test_the_media_directory_is_not_served_by_any_public_url(stored_image, client):
    response = client.get(f"/media-not-public/{stored_image.image.name}")

    assert response.status_code == 404


def test_a_missing_evidence_file_is_a_404_not_a_crash(stored_image, officer_a):
    stored_image.image.storage.delete(stored_image.image.name)

    response = client_for(officer_a).get(reverse("incident-image-download", args=[stored_image.pk]))

    assert response.status_code == 404
    assert response.json()["code"] == "evidence_missing"


