"""The privacy features against the GCS emulator: audited signed URLs, their lifetime, purges in the bucket."""

from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from django.urls import reverse

from incidents.tests.test_evidence_gcs import bucket, emulator, gcs_settings, signing_key  # noqa: F401
from naarikavach.testing import client_for
from privacy.models import ViewAuditEntry
from privacy.tests.helpers import grant_unredacted, incident_with_image

pytestmark = pytest.mark.slow


@pytest.fixture
def evidence(gcs_settings, device, beacon):
    return incident_with_image(device, beacon)


def test_a_signed_url_handed_out_records_exactly_one_entry(evidence, officer_a):
    incident, image = evidence

    response = client_for(officer_a).get(reverse("incident-image-download", args=[image.pk]))

    assert response.status_code == 302
    [entry] = ViewAuditEntry.objects.all()
    assert (entry.action, entry.delivery, entry.subject_id, entry.image_id) == (
        "evidence_view", "signed_url", str(incident.pk), image.pk)
    assert httpx.get(response["Location"]).status_code == 200


def test_an_unredacted_signed_url_records_one_entry_with_the_reason(evidence, officer_a):
    _, image = evidence
    grant_unredacted(officer_a)

    response = client_for(officer_a).post(reverse("privacy-image-unredacted", args=[image.pk]),
                                          {"reason": "Court order 17/2026"})

    assert response.status_code == 302
    assert httpx.get(response["Location"]).content == image.image.storage.open(image.image.name).read()
    [entry] = ViewAuditEntry.objects.all()
    assert (entry.action, entry.delivery, entry.reason) == ("evidence_unredacted", "signed_url", "Court order 17/2026")


def _expiry(url: str) -> int:
    return int(dict(parse_qsl(urlsplit(url).query))["X-Goog-Expires"])


def test_the_purge_deletes_expired_evidence_and_its_derivative_from_the_bucket_and_keeps_held(
        gcs_settings, bucket, device, beacon, dispatcher):
    from datetime import timedelta

    from django.utils import timezone

    from common.actors import Actor
    from incidents import services as incident_services
    from incidents.models import Incident
    from privacy import services
    from privacy.retention import retention_purge

    def resolved(days_ago):
        incident, image = incident_with_image(device, beacon)
        incident_services.incident_resolve(incident_id=incident.pk, actor=Actor.for_user(dispatcher),
                                           resolution_note="Handled")
        Incident.objects.filter(pk=incident.pk).update(resolved_at=timezone.now() - timedelta(days=days_ago))
        client_for(dispatcher).get(reverse("incident-image-download", args=[image.pk]))
        return incident, image, image.redacted.file.name

    expired, expired_image, expired_derivative = resolved(800)
    held, held_image, held_derivative = resolved(800)
    services.legal_hold_place(subject_kind="incident", subject_id=held.pk, actor=Actor.for_user(dispatcher),
                              reason="Trial pending")
    assert bucket.get_blob(expired_image.image.name) is not None

    run = retention_purge()

    assert bucket.get_blob(expired_image.image.name) is None and bucket.get_blob(expired_derivative) is None
    assert bucket.get_blob(held_image.image.name) is not None and bucket.get_blob(held_derivative) is not None
    assert list(Incident.objects.values_list("pk", flat=True)) == [held.pk]
    assert (run.counts["evidence_files"], run.counts["file_errors"]) == (1, 0)


@pytest.mark.parametrize(("configured", "expected"), [(None, 900), (600, 600), (7200, 3600)])
def test_signed_urls_live_15_minutes_by_default_as_configured_and_never_over_an_hour(
        gcs_settings, device, beacon, officer_a, configured, expected):
    if configured is None:
        del gcs_settings.EVIDENCE_URL_EXPIRY_SECONDS
    else:
        gcs_settings.EVIDENCE_URL_EXPIRY_SECONDS = configured
    _, image = incident_with_image(device, beacon)

    url = client_for(officer_a).get(reverse("incident-image-download", args=[image.pk]))["Location"]

    assert _expiry(url) == expected
    assert httpx.get(url).status_code == 200
