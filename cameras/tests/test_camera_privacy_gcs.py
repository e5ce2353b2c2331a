"""Camera pictures on GCS (the emulator): the purge deletes expired snapshots and a purged SOS's camera files
from the bucket and keeps a held SOS's; an unredacted snapshot is handed out as one audited signed URL."""


import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from cameras.models import CameraSnapshot
from cameras.tests.test_camera_privacy import (
    DAY,
    camera_files,
    close_long_ago,
    delivered_snapshot,
    sos_with_camera_evidence,
)
from common.actors import Actor
from incidents.tests.test_evidence_gcs import bucket, emulator, gcs_settings, signing_key  # noqa: F401
from privacy import services as privacy_services
from privacy.models import ViewAuditEntry
from privacy.retention import retention_purge
from privacy.tests.helpers import grant_unredacted
from sos.models import SOS

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def in_bucket(bucket, field) -> bool:  # noqa: F811
    return bucket.get_blob(field.name) is not None


def test_the_purge_deletes_camera_pictures_from_the_bucket_and_keeps_those_of_a_held_sos(
        gcs_settings, bucket, client_for, dispatcher, device_client, entrance_camera, tmp_path):  # noqa: F811
    snapshot = delivered_snapshot(client_for, dispatcher, device_client)
    CameraSnapshot.objects.filter(pk=snapshot.pk).update(requested_at=timezone.now() - 31 * DAY)
    purged = sos_with_camera_evidence(device_client, tmp_path)
    held = sos_with_camera_evidence(device_client, tmp_path)
    purged_files, held_files = camera_files(purged), camera_files(held)
    for sos in (purged, held):
        close_long_ago(sos, dispatcher, days_ago=731)
    privacy_services.legal_hold_place(subject_kind="sos", subject_id=held.pk, actor=Actor.for_user(dispatcher),
                                      reason="Trial pending")
    assert in_bucket(bucket, snapshot.image) and in_bucket(bucket, snapshot.redacted)
    assert all(in_bucket(bucket, f) for f in purged_files)

    run = retention_purge()

    assert not in_bucket(bucket, snapshot.image) and not in_bucket(bucket, snapshot.redacted)
    assert not any(in_bucket(bucket, f) for f in purged_files)
    assert all(in_bucket(bucket, f) for f in held_files)
    assert list(SOS.objects.values_list("pk", flat=True)) == [held.pk]
    assert (run.counts["camera_snapshots"], run.counts["camera_evidence_files"], run.counts["file_errors"]) == (
        1, 3, 0)


def test_an_unredacted_snapshot_is_one_audited_signed_url(
        gcs_settings, client_for, dispatcher, officer_a, device_client, entrance_camera):  # noqa: F811
    snapshot = delivered_snapshot(client_for, dispatcher, device_client)
    grant_unredacted(officer_a)

    response = client_for(officer_a).post(reverse("camera-snapshot-unredacted", args=[snapshot.pk]),
                                          {"reason": "Court order 17/2026"})

    assert response.status_code == 302
    assert httpx.get(response["Location"]).content == snapshot.image.storage.open(snapshot.image.name).read()
    [entry] = ViewAuditEntry.objects.filter(action="evidence_unredacted")
    assert (entry.subject_kind, entry.delivery, entry.reason) == ("camera", "signed_url", "Court order 17/2026")
