"""Citizen photos on an SOS, as the NaariKavach app uploads them (multipart sos_id, images, descriptions)."""

import hashlib

import pytest

from incidents.tests.factories import image_bytes, upload
from naarikavach.testing import client_for
from realtime.models import OutboxEvent
from sos.models import SOSImage
from sos.tests.conftest import raise_sos

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def post_images(client, sos_id, files, descriptions=()):
    return client.post("/api/upload-sos-images/", {"sos_id": sos_id, "images": list(files),
                                                   "descriptions": list(descriptions)}, format="multipart")


def test_the_owner_attaches_photos_with_its_token_and_they_are_stored_privately_with_their_hash(settings):
    raised = raise_sos()
    frame = image_bytes("PNG", color=(10, 200, 10))
    response = post_images(client_for(sos_token=raised.token), raised.sos.pk,
                           [upload("street.png", frame, "image/png"), upload("car.jpg")], ["The street", "The car"])

    assert response.status_code == 201, response.json()
    first, second = response.json()["uploaded_images"]
    assert (first["description"], first["sha256"], first["content_type"]) == (
        "The street", hashlib.sha256(frame).hexdigest(), "image/png")
    assert second["description"] == "The car"
    photo = SOSImage.objects.get(pk=first["id"])
    assert photo.image.name.startswith("sos/") and "street" not in photo.image.name
    assert (settings.MEDIA_ROOT / photo.image.name).stat().st_mode & 0o077 == 0  # readable by the platform only
    assert OutboxEvent.objects.filter(event="sos_updated", payload__action="images_added").count() == 1


def test_the_owner_and_responders_see_the_photos_and_nobody_else(citizen, other_citizen, dispatcher):
    raised = raise_sos(owner=citizen)
    post_images(client_for(citizen), raised.sos.pk, [upload("a.jpg")])

    owner = client_for(citizen).get(f"/api/get-sos-images/{raised.sos.pk}/")
    responder = client_for(dispatcher).get(f"/api/get-sos-images/{raised.sos.pk}/")
    stranger = client_for(other_citizen).get(f"/api/get-sos-images/{raised.sos.pk}/")
    anonymous = client_for(None).get(f"/api/get-sos-images/{raised.sos.pk}/")

    assert (owner.status_code, responder.status_code, stranger.status_code, anonymous.status_code) == (200, 200, 404, 401)
    assert responder.json()["count"] == 1
    url = responder.json()["images"][0]["image"]
    download = client_for(dispatcher).get(url)
    assert (download.status_code, download["Content-Type"], download["Cache-Control"]) == (200, "image/jpeg", "private, no-store")
    assert client_for(other_citizen).get(url).status_code == 404
    detail = client_for(dispatcher).get(f"/api/sos/{raised.sos.pk}/").json()
    assert [i["id"] for i in detail["images"]] == [responder.json()["images"][0]["id"]]


def test_a_responder_may_not_upload_as_the_owner(dispatcher):
    raised = raise_sos()
    response = post_images(client_for(dispatcher), raised.sos.pk, [upload("a.jpg")])
    assert response.status_code == 403
    assert not SOSImage.objects.exists()


@pytest.mark.parametrize(("files", "field"), [
    ([], "images"),
    ([upload(f"{i}.jpg") for i in range(4)], "images"),
    ([upload("ok.jpg"), upload("fake.jpg", b"<?php echo 1; ?>")], "images"),
    ([upload("truncated.jpg", image_bytes()[:200])], "images"),
])
def test_a_bad_upload_is_a_400_and_stores_nothing(files, field, settings):
    raised = raise_sos()
    response = post_images(client_for(sos_token=raised.token), raised.sos.pk, files)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not SOSImage.objects.exists()
    assert not settings.MEDIA_ROOT.exists() or not any(p.is_file() for p in settings.MEDIA_ROOT.rglob("*"))


@pytest.mark.parametrize(("sos_id", "expected"), [("", 400), ("abc", 400), ("987654", 404)])
def test_a_missing_or_unknown_sos_is_answered_clearly(sos_id, expected):
    raised = raise_sos()
    response = post_images(client_for(sos_token=raised.token), sos_id, [upload("a.jpg")])
    assert response.status_code == expected
    assert "error" in response.json()


def test_the_naarikavach_shapes_carry_the_images(citizen, dispatcher):
    raised = raise_sos(owner=citizen)
    post_images(client_for(citizen), raised.sos.pk, [upload("a.jpg")], ["front door"])
    [row] = client_for(dispatcher).get("/naarikavach/api/sos/").json()
    assert [i["description"] for i in row["images"]] == ["front door"]
    assert row["images"][0]["image_url"].endswith(f"/api/sos-images/{row['images'][0]['id']}/download/")


def test_each_look_at_a_photo_is_in_the_view_audit_and_a_refused_one_is_not(citizen, other_citizen, dispatcher):
    from privacy.models import ViewAuditEntry

    raised = raise_sos(owner=citizen)
    post_images(client_for(citizen), raised.sos.pk, [upload("a.jpg")])
    url = client_for(dispatcher).get(f"/api/get-sos-images/{raised.sos.pk}/").json()["images"][0]["image"]
    photo_id = SOSImage.objects.get().pk

    assert client_for(dispatcher).get(url).status_code == 200
    assert client_for(citizen).get(url).status_code == 200
    assert client_for(other_citizen).get(url).status_code == 404

    looks = ViewAuditEntry.objects.filter(subject_kind="sos", subject_id=str(raised.sos.pk),
                                          action=ViewAuditEntry.Action.EVIDENCE_VIEW).order_by("id")
    assert [(look.actor_id, look.details) for look in looks] == [
        (dispatcher.pk, {"sos_photo_id": photo_id}), (citizen.pk, {"sos_photo_id": photo_id})]
