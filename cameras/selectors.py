"""Reads of cameras: the registry with health for responders, and the SOS a camera should watch."""

from datetime import datetime

from django.db.models import QuerySet

from cameras.models import Camera, CameraSnapshot, SOSCameraClip, SOSCameraEvidence, SOSCameraLink
from sos.models import SOS


def camera_list(*, health: str | None = None) -> QuerySet[Camera] | list[Camera]:
    cameras = Camera.objects.select_related("device", "beacon").order_by("camera_id")
    if health:
        return [camera for camera in cameras if camera.health == health]
    return cameras


def camera_detail(*, camera_id: str) -> Camera | None:
    return Camera.objects.select_related("device", "beacon").filter(camera_id=camera_id).first()


def focus_by_camera(*, camera_pks: list[int]) -> dict[int, list[int]]:
    """For each camera, the open SOS it is linked to now: its worker should watch it closely."""
    focus: dict[int, list[int]] = {}
    links = SOSCameraLink.objects.filter(camera_id__in=camera_pks, left_at__isnull=True,
                                         sos__status__in=SOS.OPEN_STATUSES).order_by("sos_id")
    for camera_pk, sos_pk in links.values_list("camera_id", "sos_id"):
        focus.setdefault(camera_pk, []).append(sos_pk)
    return focus


def sos_camera_evidence(*, sos_id: int) -> QuerySet[SOSCameraEvidence] | None:
    """None when the SOS does not exist."""
    if not SOS.objects.filter(pk=sos_id).exists():
        return None
    return SOSCameraEvidence.objects.filter(sos_id=sos_id).select_related("camera").order_by("captured_at", "id")


def snapshots_wanted(*, camera_pks: list[int], now: datetime) -> dict[int, list[int]]:
    """For each camera, the snapshot requests its worker should answer (pending: not delivered, not expired)."""
    wanted: dict[int, list[int]] = {}
    pending = CameraSnapshot.objects.filter(camera_id__in=camera_pks, delivered_at__isnull=True, expires_at__gt=now)
    for camera_pk, snapshot_pk in pending.order_by("id").values_list("camera_id", "id"):
        wanted.setdefault(camera_pk, []).append(snapshot_pk)
    return wanted


def camera_snapshot(*, snapshot_id: int) -> CameraSnapshot | None:
    return CameraSnapshot.objects.select_related("camera").filter(pk=snapshot_id).first()


def sos_camera_clips(*, sos_id: int) -> QuerySet[SOSCameraClip] | None:
    """None when the SOS does not exist."""
    if not SOS.objects.filter(pk=sos_id).exists():
        return None
    return SOSCameraClip.objects.filter(sos_id=sos_id).select_related("camera").order_by("received_at", "id")
