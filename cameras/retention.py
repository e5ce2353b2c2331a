"""What the privacy app's retention purge removes of the cameras' data: snapshots after their own period, and
the files of an SOS's camera evidence (key frames, clips, their blurred copies) when the SOS itself goes.

Registered with privacy.retention when Django starts (cameras.apps); legal holds are the purge's: an SOS on
hold is never purged, so its camera evidence stays with it. Snapshots belong to no SOS or incident and
cannot be held.
"""

from __future__ import annotations

from django.db import transaction

from cameras.models import CameraSnapshot, SOSCameraClip, SOSCameraEvidence
from privacy.retention import (
    PurgeStep,
    SOSAttachedFiles,
    StoredFiles,
    delete_stored_files,
    pk_batches,
    register_purge_step,
    register_sos_attached_files,
)

SNAPSHOTS_KIND = "camera_snapshots"


def sos_camera_files(sos_ids: list[int]) -> list[StoredFiles]:
    """Each pre-roll key frame (blurred on each look: no copy kept) and clip (original and blurred copy)."""
    frames = [StoredFiles(row.sos_id, row.image.storage, [row.image.name])
              for row in SOSCameraEvidence.objects.filter(sos_id__in=sos_ids)]
    clips = [StoredFiles(row.sos_id, row.clip.storage, [row.clip.name, row.redacted.name])
             for row in SOSCameraClip.objects.filter(sos_id__in=sos_ids)]
    return frames + clips


def purge_snapshots(*, cutoff, batch_size: int, counts: dict) -> None:
    """Snapshots asked for before the cutoff, delivered or not: files (original, blurred copy) first, then rows;
    a snapshot whose files could not be deleted is kept for the next run."""
    expired = CameraSnapshot.objects.filter(requested_at__lt=cutoff)
    for batch in pk_batches(expired, batch_size):
        doomed = []
        for snapshot in CameraSnapshot.objects.filter(pk__in=batch):
            if delete_stored_files(snapshot.image.storage, [snapshot.image.name, snapshot.redacted.name]):
                doomed.append(snapshot.pk)
            else:
                counts["file_errors"] += 1
        with transaction.atomic():
            counts["camera_snapshots"] += CameraSnapshot.objects.filter(pk__in=doomed).delete()[0]


def register() -> None:
    register_sos_attached_files(SOSAttachedFiles(count="camera_evidence_files", files=sos_camera_files))
    register_purge_step(PurgeStep(kind=SNAPSHOTS_KIND, counts_keys=("camera_snapshots",), purge=purge_snapshots))
