"""The AI detection contract: the seed's scenarios 0.6a–0.6i, device authentication and refused reports."""

import hashlib
import json

import pytest
from django.urls import reverse

from incidents.models import AIEvent, Incident, IncidentImage, IncidentSignal
from incidents.tests.factories import image_bytes, jpegs, noise_png, report, upload
from incidents.tests.fixtures import device_client_for
from naarikavach.testing import client_for
from realtime.models import OutboxEvent

VIOLENCE = reverse("ai-violence-detected")
SCREAM = reverse("ai-scream-detected")


def post_multipart(client, url, data, images=()):
    return client.post(url, {**data, "images": list(images)}, format="multipart")


def assert_nothing_stored(settings):
    assert AIEvent.objects.count() == 0
    assert Incident.objects.count() == 0
    assert IncidentImage.objects.count() == 0
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


# The seed's scenarios ---------------------------------------------------------------------------


def test_0_6a_a_violence_report_with_one_image_creates_a_critical_incident(device_client, beacon, device):
    frame = image_bytes()
    response = post_multipart(
        device_client, VIOLENCE, report(beacon.beacon_id, 0.95, device_id="CAM-01"), [upload("v1.jpg", frame)]
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    incident = Incident.objects.get()
    assert body["status"] == "incident_created"
    assert body["incident_id"] == str(incident.pk)
    assert body["ai_event_id"] == AIEvent.objects.get().pk
    assert body["signal_id"] == IncidentSignal.objects.get().pk
    assert body["confidence_score"] == 0.95
    assert body["beacon_location"] == "Library Entrance"
    assert (body["incident_status"], body["incident_priority"]) == ("CREATED", "Critical")
    assert body["device_id"] == "CAM-01"
    [image] = body["images"]
    assert image["description"] == "AI Detection Image 1 (VIOLENCE)"
    assert image["sha256"] == hashlib.sha256(frame).hexdigest()
    assert image["image"].endswith(reverse("incident-image-download", args=[image["id"]]))
    assert {"id", "image", "uploaded_at", "description"} <= image.keys()


def test_0_6b_three_images_are_all_attached_to_the_incident(device_client, beacon):
    response = post_multipart(device_client, VIOLENCE, report(beacon.beacon_id, 0.88), jpegs(3))

    assert response.status_code == 201
    assert [image["description"] for image in response.json()["images"]] == [
        f"AI Detection Image {n} (VIOLENCE)" for n in (1, 2, 3)
    ]
    assert Incident.objects.get().images.count() == 3


def test_0_6c_a_scream_report_creates_a_high_priority_incident(device_client, beacon):
    response = post_multipart(device_client, SCREAM, report(beacon.beacon_id, 0.92), [upload()])

    assert response.status_code == 201
    body = response.json()
    assert body["incident_priority"] == "High"
    assert body["images"][0]["description"] == "AI Detection Image 1 (SCREAM)"
    incident = Incident.objects.get()
    assert incident.kind == "scream"
    assert incident.signals.get().signal_type == "SCREAM_DETECTED"


def test_0_6d_a_report_below_the_threshold_is_logged_with_its_image_kept_for_review(device_client, beacon):
    response = post_multipart(device_client, VIOLENCE, report(beacon.beacon_id, 0.65), [upload()])

    assert response.status_code == 200
    event = AIEvent.objects.get()
    assert response.json() == {
        "status": "logged_only",
        "ai_event_id": event.pk,
        "message": "Confidence 0.65 below threshold 0.75",
        "images_received": 1,
    }
    assert Incident.objects.count() == 0
    image = IncidentImage.objects.get()
    assert (image.ai_event, image.incident) == (event, None)
    assert image.image.storage.exists(image.image.name)


@pytest.mark.parametrize("missing", ["beacon_id", "confidence_score", "description"])
def test_0_6e_a_report_missing_a_required_field_is_refused_and_nothing_is_stored(
    device_client, beacon, settings, missing
):
    data = report(beacon.beacon_id)
    del data[missing]

    response = post_multipart(device_client, VIOLENCE, data, [upload()])

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["fields"][missing] == ["This field is required."]
    assert_nothing_stored(settings)


def test_0_6f_four_images_are_refused_and_nothing_is_stored(device_client, beacon, settings):
    response = post_multipart(device_client, VIOLENCE, report(beacon.beacon_id), jpegs(4))

    assert response.status_code == 400
    assert response.json()["error"] == "Maximum 3 images allowed"
    assert_nothing_stored(settings)


def test_0_6g_h_a_second_report_within_five_minutes_adds_its_images_to_the_same_incident(device_client, beacon):
    first = post_multipart(device_client, VIOLENCE, report(beacon.beacon_id, 0.95), [upload("a.jpg")])
    second = post_multipart(device_client, VIOLENCE, report(beacon.beacon_id, 0.92), [upload("b.jpg")])

    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["status"] == "signal_added_to_existing"
    assert second.json()["incident_id"] == first.json()["incident_id"]
    assert second.json()["signal_id"] != first.json()["signal_id"]
    incident = Incident.objects.get()
    assert incident.signal_count == 2
    assert incident.images.count() == 2
    # One alert: the second report updates dashboards but raises no new incident_created.
    assert OutboxEvent.objects.filter(event="incident_created").count() == 1


def test_0_6i_a_json_report_without_images_answers_like_a_multipart_one(
    device_client, beacon, other_beacon, roaming_client
):
    as_json = device_client.post(VIOLENCE, report(beacon.beacon_id, 0.92, device_id="CAM-01"), format="json")
    as_form = post_multipart(roaming_client, VIOLENCE, report(other_beacon.beacon_id, 0.92))

    assert as_json.status_code == as_form.status_code == 201
    assert as_json.json().keys() == as_form.json().keys()
    assert as_json.json()["images"] == as_form.json()["images"] == []


# Authentication ---------------------------------------------------------------------------------


def test_a_report_without_a_device_key_is_refused_with_401(anon, beacon):
    response = anon.post(VIOLENCE, report(beacon.beacon_id), format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Device"
    assert AIEvent.objects.count() == 0


def test_a_report_with_a_wrong_key_is_refused(beacon, device):
    response = device_client_for("nkd_not-a-key").post(VIOLENCE, report(beacon.beacon_id), format="json")

    assert response.status_code == 401
    assert AIEvent.objects.count() == 0


def test_an_inactive_device_can_no_longer_report(device_client, device, beacon):
    device.is_active = False
    device.save()

    response = device_client.post(VIOLENCE, report(beacon.beacon_id), format="json")

    assert response.status_code == 401
    assert AIEvent.objects.count() == 0


def test_a_signed_in_officer_cannot_forge_a_detection(officer_a, beacon):
    response = client_for(officer_a).post(VIOLENCE, report(beacon.beacon_id), format="json")

    assert response.status_code == 401
    assert Incident.objects.count() == 0


def test_a_device_cannot_report_under_another_device_id(device_client, beacon):
    response = device_client.post(VIOLENCE, report(beacon.beacon_id, device_id="CAM-99"), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "device_mismatch"
    assert AIEvent.objects.count() == 0


def test_a_device_bound_to_a_beacon_cannot_report_for_another(device_client, other_beacon):
    response = device_client.post(VIOLENCE, report(other_beacon.beacon_id), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "beacon_mismatch"
    assert AIEvent.objects.count() == 0


def test_a_device_without_a_beacon_may_report_for_any_active_beacon(roaming_client, beacon, other_beacon):
    for target in (beacon, other_beacon):
        response = roaming_client.post(VIOLENCE, report(target.beacon_id), format="json")
        assert response.status_code == 201
    assert sorted(Incident.objects.values_list("beacon__beacon_id", flat=True)) == sorted(
        [beacon.beacon_id, other_beacon.beacon_id]
    )


# Refused input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", ["high", 1.5, -0.1, "nan", "inf", True, None, ""])
def test_a_confidence_that_is_not_a_number_from_0_to_1_is_refused(device_client, beacon, settings, confidence):
    response = device_client.post(VIOLENCE, report(beacon.beacon_id, confidence), format="json")

    assert response.status_code == 400
    assert "confidence_score" in response.json()["fields"]
    assert_nothing_stored(settings)


def test_a_confidence_exactly_at_the_threshold_creates_an_incident(device_client, beacon):
    response = device_client.post(SCREAM, report(beacon.beacon_id, 0.80), format="json")

    assert response.status_code == 201


def test_thresholds_come_from_settings(device_client, beacon, settings):
    settings.INCIDENT_THRESHOLDS = {"violence": 0.9, "scream": 0.5}

    violence = device_client.post(VIOLENCE, report(beacon.beacon_id, 0.85), format="json")
    scream = device_client.post(SCREAM, report(beacon.beacon_id, 0.55), format="json")

    assert violence.json()["message"] == "Confidence 0.85 below threshold 0.90"
    assert scream.status_code == 201


@pytest.mark.parametrize(
    "name, data",
    [
        ("notes.jpg", b"this is text pretending to be a JPEG"),
        ("anim.gif", image_bytes("GIF")),
        ("bitmap.jpg", image_bytes("BMP")),
        ("cut.jpg", image_bytes(size=(640, 480))[:600]),
    ],
    ids=["text-named-jpg", "gif", "bmp-named-jpg", "truncated-jpeg"],
)
def test_a_file_that_is_not_a_whole_jpeg_png_or_webp_is_refused(device_client, beacon, settings, name, data):
    response = post_multipart(device_client, VIOLENCE, report(beacon.beacon_id), [upload("ok.jpg"), upload(name, data)])

    assert response.status_code == 400
    assert response.json()["fields"]["images"][0].startswith(f"Image 2 ({name})")
    assert_nothing_stored(settings)


def test_an_image_over_the_size_limit_is_refused(device_client, beacon, settings):
    big = image_bytes("PNG", size=(300, 300))
    settings.EVIDENCE_MAX_BYTES = len(big) - 1

    response = post_multipart(device_client, VIOLENCE, report(beacon.beacon_id), [upload("big.png", big)])

    assert response.status_code == 400
    assert "larger than the limit" in response.json()["error"]
    assert_nothing_stored(settings)


def test_a_request_far_over_the_limit_is_refused_before_it_is_read(device_client, beacon, settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    big = noise_png()
    assert len(big) > 3 * 1000 + 1024 * 1024

    response = post_multipart(device_client, VIOLENCE, report(beacon.beacon_id), [upload("big.png", big)])

    assert response.status_code == 400
    assert response.json()["code"] == "too_large"
    assert_nothing_stored(settings)


@pytest.mark.parametrize("image_format, extension", [("PNG", "png"), ("WEBP", "webp"), ("JPEG", "jpg")])
def test_png_webp_and_jpeg_images_are_accepted(device_client, beacon, image_format, extension):
    response = post_multipart(
        device_client, VIOLENCE, report(beacon.beacon_id), [upload("camera-frame", image_bytes(image_format))]
    )

    assert response.status_code == 201
    assert IncidentImage.objects.get().image.name.endswith(f".{extension}")


def test_an_unknown_beacon_is_404_and_nothing_is_stored(roaming_client, beacon, settings):
    response = post_multipart(roaming_client, VIOLENCE, report("no-such-beacon"), [upload()])

    assert response.status_code == 404
    assert response.json()["code"] == "beacon_not_found"
    assert_nothing_stored(settings)


def test_an_inactive_beacon_is_404(device_client, beacon, settings):
    beacon.is_active = False
    beacon.save()

    response = device_client.post(VIOLENCE, report(beacon.beacon_id), format="json")

    assert response.status_code == 404
    assert_nothing_stored(settings)


def test_details_from_the_worker_are_stored_with_the_event(device_client, beacon):
    details = {"people": 3, "female": 1, "male": 2, "priority_hint": "Critical"}

    response = post_multipart(
        device_client, VIOLENCE, report(beacon.beacon_id, details=json.dumps(details)), [upload()]
    )

    assert response.status_code == 201
    assert AIEvent.objects.get().details == details


@pytest.mark.parametrize("details", ["{not json", "[1, 2]", '"text"'])
def test_details_that_are_not_a_json_object_are_refused(device_client, beacon, settings, details):
    response = post_multipart(device_client, VIOLENCE, report(beacon.beacon_id, details=details))

    assert response.status_code == 400
    assert "details" in response.json()["fields"]
    assert_nothing_stored(settings)


def test_every_report_is_kept_as_an_ai_event_whatever_its_outcome(device_client, beacon):
    for confidence in (0.2, 0.95, 0.9):
        device_client.post(VIOLENCE, report(beacon.beacon_id, confidence), format="json")

    assert list(AIEvent.objects.order_by("id").values_list("confidence_score", "outcome")) == [
        (0.2, "logged_only"), (0.95, "incident_created"), (0.9, "signal_added_to_existing"),
    ]
