"""Every state change of cameras: registry, heartbeats, the offline check, SOS ↔ camera links, attaching detections,
pre-roll evidence and snapshots on request.

The offline rule lives in one place, `_evaluate`, run on each heartbeat and by `cameras_check_offline` (which
the platform's scheduler calls every few seconds, or `manage.py check_cameras --loop`):
- a camera that has sent heartbeats goes offline when it is silent for the grace period or reports `down`;
  that raises (or joins) the open `camera_offline` incident of its beacon;
- an offline camera is back once it has reported well for the recovery time; the incident is resolved with a
  note when none of its cameras is still offline. A camera that flaps within the recovery time stays offline,
  so it raises no new incident and no new alert (no storm).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from cameras import clips, geometry
from cameras.models import Camera, CameraSnapshot, SOSCameraClip, SOSCameraEvidence, SOSCameraLink
from common.actors import Actor
from common.errors import Conflict, Forbidden, InvalidInput, NotFound
from common.geo import distance_km, position_errors
from incidents import services as incident_services
from incidents.evidence import inspect_image
from incidents.models import Beacon, Device, Incident, IncidentKind, IncidentSignal
from incidents.storage import evidence_path, evidence_storage
from privacy import redaction
from privacy import services as privacy_services
from privacy.models import ViewAuditEntry
from realtime import rooms
from realtime.events import Event, publish, publish_many
from sos.models import SOS, SOSAuditEntry

logger = logging.getLogger(__name__)


# The registry -----------------------------------------------------------------------------------


def _geometry_errors(*, latitude, longitude, heading_deg, fov_deg, range_m, coverage) -> dict[str, list[str]]:
    fields = position_errors(latitude, longitude)
    if heading_deg is not None and not (0 <= heading_deg < 360):
        fields["heading_deg"] = ["Between 0 (north) and 360, clockwise."]
    if fov_deg is not None and not (0 < fov_deg <= 360):
        fields["fov_deg"] = ["Between 0 and 360 degrees."]
    if range_m is not None and not (0 < range_m <= 5000):
        fields["range_m"] = ["Between 0 and 5000 metres."]
    if (heading_deg is None) != (fov_deg is None):
        fields["fov_deg"] = ["Give heading and field of view together."]
    if coverage:
        errors = geometry.polygon_errors(coverage)
        if errors:
            fields["coverage"] = errors
    return fields


@transaction.atomic
def camera_create(
    *, camera_id: str, name: str, device: Device, beacon: Beacon, latitude: float, longitude: float,
    heading_deg: float | None = None, fov_deg: float | None = None, range_m: float | None = None,
    coverage: list | None = None, enabled: bool = True,
) -> Camera:
    camera_id = camera_id.strip()
    fields = _geometry_errors(latitude=latitude, longitude=longitude, heading_deg=heading_deg, fov_deg=fov_deg,
                              range_m=range_m, coverage=coverage)
    try:
        Camera._meta.get_field("camera_id").run_validators(camera_id)
    except ValidationError as exc:
        fields["camera_id"] = exc.messages
    if not camera_id:
        fields["camera_id"] = ["This field may not be blank."]
    if fields:
        raise InvalidInput("Invalid camera.", fields=fields)
    if Camera.objects.filter(camera_id=camera_id).exists():
        raise Conflict(f"Camera {camera_id!r} already exists.", code="camera_exists")
    return Camera.objects.create(
        camera_id=camera_id, name=name.strip() or camera_id, device=device, beacon=beacon, latitude=latitude,
        longitude=longitude, heading_deg=heading_deg, fov_deg=fov_deg, range_m=range_m, coverage=coverage or [],
        enabled=enabled,
    )


# Heartbeats and the offline check ----------------------------------------------------------------


@dataclass
class HeartbeatResult:
    cameras: list[Camera] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


@transaction.atomic
def camera_heartbeat(*, device: Device, reports: list[dict], now: datetime | None = None) -> HeartbeatResult:
    """Record a worker's per-camera health. Each report: camera_id, state, and optional figures (fps,
    dropped_frames, last_frame_at, model_latency_ms, motion_share). A camera of another device is refused
    (nothing is written); a camera the server does not know is named back, the others are still recorded."""
    now = now or timezone.now()
    if not device.is_active:
        raise Forbidden("This device is inactive.", code="device_inactive")
    ids = [report["camera_id"] for report in reports]
    if len(set(ids)) != len(ids):
        raise InvalidInput("A camera appears twice.", fields={"cameras": ["Each camera_id once per heartbeat."]})
    cameras = {c.camera_id: c for c in Camera.objects.select_for_update().filter(camera_id__in=ids)}
    foreign = sorted(cid for cid, c in cameras.items() if c.device_id != device.pk)
    if foreign:
        raise Forbidden(f"Camera(s) {', '.join(foreign)} belong to another device.", code="camera_mismatch")
    Device.objects.filter(pk=device.pk).update(last_seen_at=now)
    result = HeartbeatResult(unknown=[cid for cid in ids if cid not in cameras])
    for report in reports:
        camera = cameras.get(report["camera_id"])
        if camera is None:
            continue
        camera.reported_state = report["state"]
        camera.last_heartbeat_at = now
        camera.last_frame_at = report.get("last_frame_at")
        camera.stats = {k: report.get(k) for k in ("fps", "dropped_frames", "model_latency_ms", "motion_share")}
        _evaluate(camera, now=now)
        result.cameras.append(camera)
    return result


@transaction.atomic
def cameras_check_offline(*, now: datetime | None = None) -> list[Camera]:
    """Apply the offline rule to every enabled camera that has ever sent a heartbeat; returns those whose
    health changed. Idempotent: the platform's scheduler calls it every few seconds."""
    now = now or timezone.now()
    changed = []
    cameras = Camera.objects.select_for_update().filter(enabled=True, last_heartbeat_at__isnull=False)
    for camera in cameras.select_related("device", "beacon"):
        before = camera.health
        _evaluate(camera, now=now)
        if camera.health != before:
            changed.append(camera)
    return changed


def _evaluate(camera: Camera, *, now: datetime) -> None:
    """The one offline rule (see the module docstring); saves the camera and publishes its health if it changed."""
    before = camera.health
    grace, recovery = settings.CAMERA_OFFLINE_GRACE_SECONDS, settings.CAMERA_RECOVERY_SECONDS
    failing = camera.is_silent(now, grace) or camera.reported_state == Camera.State.DOWN
    if not camera.enabled:
        # A disabled camera's figures are kept, but it neither goes offline nor "comes back".
        camera.save()
        return
    if failing and not camera.is_offline:
        camera.is_offline, camera.offline_since, camera.back_since = True, now, None
        camera.offline_incident = _raise_offline_incident(camera, now=now)
    elif failing:
        camera.back_since = None  # flapping: it failed again before it counted as back
    elif camera.is_offline:
        camera.back_since = camera.back_since or now
        if (now - camera.back_since).total_seconds() >= recovery:
            _bring_back(camera, now=now)
    camera.save()
    if camera.health != before:
        publish(event="camera_health", rooms=[rooms.INCIDENTS_CHANNEL],
                payload={**camera.as_payload(), "timestamp": now.isoformat()})


def _raise_offline_incident(camera: Camera, *, now: datetime) -> Incident:
    silent_for = "" if camera.last_heartbeat_at is None else (
        f"; last heartbeat {int((now - camera.last_heartbeat_at).total_seconds())} s ago"
    )
    why = "reports its stream down" if camera.reported_state == Camera.State.DOWN else "sends no heartbeat"
    description = f"Camera {camera.name} ({camera.camera_id}) is offline: it {why}{silent_for}."
    incident, _ = incident_services.incident_raise(
        kind=IncidentKind.CAMERA_OFFLINE, beacon=camera.beacon, priority=settings.CAMERA_OFFLINE_PRIORITY,
        description=description, signal_type=IncidentSignal.Type.CAMERA_OFFLINE, actor=Actor(device=camera.device),
        device=camera.device, details={"camera_id": camera.camera_id}, now=now,
    )
    return incident


def _bring_back(camera: Camera, *, now: datetime) -> None:
    incident_id = camera.offline_incident_id
    offline_since = camera.offline_since
    camera.is_offline, camera.offline_since, camera.back_since, camera.offline_incident = False, None, None, None
    if incident_id is None:
        return
    still_offline = Camera.objects.filter(offline_incident_id=incident_id, is_offline=True).exclude(pk=camera.pk)
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None or not incident.is_open or still_offline.exists():
        return
    note = (f"Resolved automatically: camera {camera.name} ({camera.camera_id}) is back online at "
            f"{now.isoformat()} (offline since {offline_since.isoformat() if offline_since else 'unknown'}).")
    incident_services.incident_resolve(incident_id=incident_id, actor=Actor(device=camera.device),
                                       resolution_note=note)


# SOS ↔ camera links -------------------------------------------------------------------------------


def _uncertainty_m(accuracy_m: float | None) -> float:
    return settings.CAMERA_SOS_DEFAULT_UNCERTAINTY_M if accuracy_m is None else accuracy_m


def cameras_covering(*, latitude: float, longitude: float, radius_m: float) -> list[tuple[Camera, float]]:
    """Enabled cameras whose coverage meets the circle, with the distance from its centre to the coverage."""
    found = []
    for camera in Camera.objects.filter(enabled=True).select_related("device"):
        polygon = camera.coverage_polygon()
        # Cheap rejection first: every polygon point is farther than the circle can reach.
        reach_m = radius_m + max(distance_km(camera.latitude, camera.longitude, lat, lng) * 1000 for lat, lng in polygon)
        if distance_km(latitude, longitude, camera.latitude, camera.longitude) * 1000 > reach_m + 1:
            continue
        distance = geometry.distance_to_polygon_m((latitude, longitude), polygon)
        if distance <= radius_m + geometry.EDGE_TOLERANCE_M:
            found.append((camera, distance))
    return found


def cameras_link_sos(*, sos: SOS, latitude: float, longitude: float, accuracy_m: float | None,
                     now: datetime | None = None) -> tuple[list[SOSCameraLink], list[SOSCameraLink]]:
    """Called by the SOS services when an SOS is raised or moves (inside their transaction): link the cameras
    whose coverage meets its uncertainty circle, and end the position links of cameras it has left.
    Returns (linked, left); publishes `sos_cameras_changed` when either is not empty."""
    now = now or timezone.now()
    radius = _uncertainty_m(accuracy_m)
    covering = {camera.pk: (camera, distance) for camera, distance in
                cameras_covering(latitude=latitude, longitude=longitude, radius_m=radius)}
    current = {link.camera_id: link for link in SOSCameraLink.objects.filter(sos=sos, left_at__isnull=True)
               .select_related("camera")}
    new = [pk for pk in covering if pk not in current]
    refused = set(
        SOSCameraLink.objects.filter(sos=sos, unlinked_by_hand=True, camera_id__in=new).values_list("camera_id", flat=True)
    ) if new else set()
    linked = [
        SOSCameraLink.objects.create(
            sos=sos, camera=camera, source=SOSCameraLink.Source.POSITION, distance_m=round(distance, 1),
            reason=(f"SOS position {'inside' if distance == 0 else f'{distance:.0f} m from'} its coverage "
                    f"(uncertainty {radius:.0f} m)"),
            linked_at=now,
        )
        for pk, (camera, distance) in covering.items() if pk not in current and pk not in refused
    ]
    left = [link for pk, link in current.items()
            if pk not in covering and link.source == SOSCameraLink.Source.POSITION]
    for link in left:
        link.left_at, link.left_reason = now, f"SOS moved out of its coverage (uncertainty {radius:.0f} m)"
        link.save(update_fields=["left_at", "left_reason"])
    if linked or left:
        _publish_links(sos, linked=linked, left=left, now=now)
    return linked, left


def _publish_links(sos: SOS, *, linked: list[SOSCameraLink], left: list[SOSCameraLink], now: datetime) -> None:
    publish(event="sos_cameras_changed", rooms=[rooms.SOS_CHANNEL], payload={
        "sos_id": sos.pk, "room_id": str(sos.room_id), "linked": [link.as_payload() for link in linked],
        "left": [link.as_payload() for link in left], "timestamp": now.isoformat(),
    })


def _require_responder(actor: Actor) -> None:
    if not actor.is_responder:
        raise Forbidden("Only responders may link cameras to an SOS.")


@transaction.atomic
def camera_sos_link(*, sos_id: int, camera_id: str, actor: Actor, note: str = "") -> SOSCameraLink:
    """A dispatcher links a camera to an SOS by hand (it stays linked however the SOS moves)."""
    _require_responder(actor)
    sos = SOS.objects.select_for_update().filter(pk=sos_id).first()
    if sos is None:
        raise NotFound("SOS not found")
    if not sos.is_open:
        raise Conflict(f"SOS is {sos.status}; it can no longer change.", code="sos_closed")
    camera = Camera.objects.filter(camera_id=camera_id).first()
    if camera is None:
        raise NotFound(f"Camera {camera_id!r} not found.", code="camera_not_found")
    if SOSCameraLink.objects.filter(sos=sos, camera=camera, left_at__isnull=True).exists():
        raise Conflict(f"Camera {camera_id} is already linked to this SOS.", code="already_linked")
    now = timezone.now()
    link = SOSCameraLink.objects.create(
        sos=sos, camera=camera, source=SOSCameraLink.Source.MANUAL, linked_at=now,
        reason=f"Linked by {actor.label}" + (f": {note.strip()}" if note.strip() else ""),
    )
    SOSAuditEntry.record(sos, action="camera_linked", actor=actor, details={"camera_id": camera_id})
    _publish_links(sos, linked=[link], left=[], now=now)
    return link


@transaction.atomic
def camera_sos_unlink(*, sos_id: int, camera_id: str, actor: Actor, note: str = "") -> SOSCameraLink:
    """A dispatcher ends a camera's link to an SOS (wrong place, camera facing away)."""
    _require_responder(actor)
    link = (SOSCameraLink.objects.select_for_update().select_related("sos", "camera")
            .filter(sos_id=sos_id, camera__camera_id=camera_id, left_at__isnull=True).first())
    if link is None:
        raise NotFound(f"Camera {camera_id!r} is not linked to SOS {sos_id}.", code="link_not_found")
    now = timezone.now()
    link.left_at = now
    link.left_reason = f"Unlinked by {actor.label}" + (f": {note.strip()}" if note.strip() else "")
    link.unlinked_by_hand = True
    link.save(update_fields=["left_at", "left_reason", "unlinked_by_hand"])
    SOSAuditEntry.record(link.sos, action="camera_unlinked", actor=actor, details={"camera_id": camera_id})
    _publish_links(link.sos, linked=[], left=[link], now=now)
    return link


def cameras_attach_incident_to_linked_sos(*, incident: Incident, device: Device, camera_id: str | None,
                                          now: datetime) -> list[SOS]:
    """A violence or scream detection on a camera linked to an open SOS joins the two into one case: the
    incident gets an SOS signal and Critical priority, the SOS an audit entry and a `sos_camera_incident`
    event. Called inside the report's transaction. Returns the SOS it was attached to."""
    cameras = Camera.objects.filter(device=device, enabled=True)
    cameras = cameras.filter(camera_id=camera_id) if camera_id else cameras.filter(beacon=incident.beacon)
    links = (SOSCameraLink.objects.filter(camera__in=cameras, left_at__isnull=True, sos__status__in=SOS.OPEN_STATUSES)
             .select_related("sos", "camera").order_by("sos_id"))
    attached = []
    for link in links:
        sos = link.sos
        if sos in attached or IncidentSignal.objects.filter(incident=incident, sos=sos).exists():
            continue
        attached.append(sos)
        why = f"{incident.kind} on camera {link.camera.camera_id}, linked to SOS #{sos.pk} ({link.reason})"
        IncidentSignal.objects.create(incident=incident, signal_type=IncidentSignal.Type.SOS, sos=sos, device=device,
                                      description=why, received_at=now)
        incident = incident_services.incident_raise_priority(
            incident_id=incident.pk, priority=Incident.Priority.CRITICAL, actor=Actor(device=device), reason=why,
        )
        SOSAuditEntry.record(sos, action="camera_incident", actor=Actor(device=device),
                             details={"incident_id": str(incident.pk), "camera_id": link.camera.camera_id,
                                      "kind": incident.kind})
        publish_many([Event(event="sos_camera_incident", rooms=[rooms.SOS_CHANNEL], payload={
            "sos_id": sos.pk, "room_id": str(sos.room_id), "incident_id": str(incident.pk),
            "camera_id": link.camera.camera_id, "kind": incident.kind, "priority": incident.priority,
            "timestamp": now.isoformat(),
        })])
    return attached


# Pre-roll evidence ----------------------------------------------------------------------------------

MAX_PREROLL_IMAGES = 6


def camera_sos_evidence_add(*, device: Device, camera_id: str, sos_id: int, images: list,
                            captured_at: list[datetime | None] | None = None, clip=None) -> list[SOSCameraEvidence]:
    """A linked camera's worker sends the key frames of its last seconds (pre-roll) for an SOS, and optionally
    the same frames as a short clip (kept with a face-blurred copy, see cameras.clips).

    Only a camera of this device, linked to that SOS now or before, may; the SOS may have closed since
    (evidence that arrives late is still kept). Files are checked, then stored before the transaction."""
    if not images or len(images) > MAX_PREROLL_IMAGES:
        raise InvalidInput(f"Send 1 to {MAX_PREROLL_IMAGES} images.",
                           fields={"images": [f"Send 1 to {MAX_PREROLL_IMAGES} images; {len(images)} were sent."]})
    camera = Camera.objects.filter(camera_id=camera_id).first()
    if camera is None:
        raise NotFound(f"Camera {camera_id!r} not found.", code="camera_not_found")
    if camera.device_id != device.pk:
        raise Forbidden(f"Camera {camera_id} belongs to another device.", code="camera_mismatch")
    if not SOSCameraLink.objects.filter(sos_id=sos_id, camera=camera).exists():
        raise Forbidden(f"Camera {camera_id} is not linked to SOS {sos_id}.", code="not_linked")
    checked = [inspect_image(upload, number=n, max_bytes=settings.EVIDENCE_MAX_BYTES)
               for n, upload in enumerate(images, start=1)]
    checked_clip = clips.inspect_clip(clip, max_bytes=settings.EVIDENCE_MAX_BYTES) if clip is not None else None
    storage = evidence_storage()
    names = []
    try:
        for item in checked:
            names.append(storage.save(evidence_path(item.content_type), ContentFile(item.data)))
        clip_names = _store_clip(storage, checked_clip, names) if checked_clip is not None else None
        return _record_preroll(camera=camera, sos_id=sos_id, device=device, checked=checked, names=names,
                               captured_at=captured_at or [], clip=clip_names)
    except BaseException:
        for name in names:
            storage.delete(name)
        raise


def _store_clip(storage, checked, names: list[str]) -> dict:
    """Store the clip and its face-blurred copy; their names are added to `names` (removed on failure)."""
    redacted, faces = clips.blurred_copy(checked)
    names.append(storage.save(clips.clip_path(checked.extension), ContentFile(checked.data)))
    original = names[-1]
    names.append(storage.save(f"redacted/{original.rsplit('.', 1)[0]}.webm", ContentFile(redacted)))
    return {"clip": original, "sha256": checked.sha256, "content_type": checked.content_type,
            "size_bytes": checked.size, "redacted": names[-1], "redacted_sha256": hashlib.sha256(redacted).hexdigest(),
            "faces_found": faces, "width": checked.width, "height": checked.height,
            "frames": checked.frames, "fps": checked.fps}


@transaction.atomic
def _record_preroll(*, camera: Camera, sos_id: int, device: Device, checked: list, names: list[str],
                    captured_at: list, clip: dict | None = None) -> list[SOSCameraEvidence]:
    sos = SOS.objects.select_for_update().get(pk=sos_id)
    now = timezone.now()
    rows = [
        SOSCameraEvidence.objects.create(
            sos=sos, camera=camera, image=name, sha256=item.sha256, content_type=item.content_type,
            size_bytes=item.size, width=item.width, height=item.height, received_at=now,
            captured_at=captured_at[i] if i < len(captured_at) else None,
        )
        for i, (name, item) in enumerate(zip(names, checked))
    ]
    details = {"camera_id": camera.camera_id, "images": len(rows)}
    if clip is not None:
        stored = SOSCameraClip.objects.create(sos=sos, camera=camera, received_at=now, **clip)
        details |= {"clip_id": stored.pk, "clip_sha256": stored.sha256}
    SOSAuditEntry.record(sos, action="camera_evidence", actor=Actor(device=device), details=details)
    publish(event="sos_camera_evidence", rooms=[rooms.SOS_CHANNEL], payload={
        "sos_id": sos.pk, "room_id": str(sos.room_id), "camera_id": camera.camera_id, "images": len(rows),
        "timestamp": now.isoformat(),
    })
    return rows


# Snapshots on request ------------------------------------------------------------------------------

# The view audit's subject for a look at a camera's picture (not an SOS or incident: nothing is open).
SNAPSHOT_AUDIT_SUBJECT = ViewAuditEntry.Subject.CAMERA


def snapshot_timeout_seconds() -> float:
    """How long a dispatcher's request waits for the worker (settings.CAMERA_SNAPSHOT_TIMEOUT_SECONDS): a
    heartbeat (10 s by default) to carry the request, then the spool to deliver the frame."""
    return float(settings.CAMERA_SNAPSHOT_TIMEOUT_SECONDS)


@transaction.atomic
def camera_snapshot_request(*, camera_id: str, actor: Actor, now: datetime | None = None) -> CameraSnapshot:
    """A responder asks for a camera's latest frame. The request rides on the camera's next heartbeat answer;
    a pending request of the same camera is shared (the worker sends one frame), each asker still recorded."""
    if not actor.is_responder:
        raise Forbidden("Only responders may see camera pictures.")
    now = now or timezone.now()
    camera = Camera.objects.select_for_update().filter(camera_id=camera_id).first()
    if camera is None:
        raise NotFound(f"Camera {camera_id!r} not found.", code="camera_not_found")
    if not camera.enabled:
        raise Conflict(f"Camera {camera_id} is disabled.", code="camera_disabled")
    pending = (CameraSnapshot.objects.filter(camera=camera, delivered_at__isnull=True, expires_at__gt=now)
               .order_by("requested_at").first())
    if pending is not None:
        return pending
    return CameraSnapshot.objects.create(
        camera=camera, requested_by=actor.db_user, requested_by_label=actor.label, requested_at=now,
        expires_at=now + timedelta(seconds=snapshot_timeout_seconds()),
    )


def camera_snapshot_deliver(*, device: Device, camera_id: str, snapshot_id: int, image,
                            captured_at: datetime | None = None) -> CameraSnapshot:
    """The camera's worker sends the frame asked for. Only the camera's own device, once, before the request
    expires. The original and its face-blurred copy are stored privately before the transaction."""
    camera = Camera.objects.filter(camera_id=camera_id).first()
    if camera is None:
        raise NotFound(f"Camera {camera_id!r} not found.", code="camera_not_found")
    if camera.device_id != device.pk:
        raise Forbidden(f"Camera {camera_id} belongs to another device.", code="camera_mismatch")
    _deliverable(CameraSnapshot.objects.filter(pk=snapshot_id, camera=camera).first(), now=timezone.now())
    checked = inspect_image(image, number=1, max_bytes=settings.EVIDENCE_MAX_BYTES)
    redacted = redaction.blur_faces(checked.data)
    storage = evidence_storage()
    names = []
    try:
        names.append(storage.save(evidence_path(checked.content_type), ContentFile(checked.data)))
        names.append(storage.save(f"redacted/{names[0].rsplit('.', 1)[0]}.png", ContentFile(redacted.data)))
        return _record_snapshot(snapshot_id=snapshot_id, checked=checked, redacted=redacted, names=names,
                                captured_at=captured_at)
    except BaseException:
        for name in names:
            storage.delete(name)
        raise


def _deliverable(snapshot: CameraSnapshot | None, *, now: datetime) -> CameraSnapshot:
    if snapshot is None:
        raise NotFound("No such snapshot request for this camera.", code="snapshot_not_found")
    if snapshot.delivered_at is not None:
        raise Conflict("This snapshot was already delivered.", code="snapshot_delivered")
    if not snapshot.is_pending(now):
        raise Conflict("This snapshot request has expired.", code="snapshot_expired")
    return snapshot


@transaction.atomic
def _record_snapshot(*, snapshot_id: int, checked, redacted, names: list[str],
                     captured_at: datetime | None) -> CameraSnapshot:
    now = timezone.now()
    # Checked again on the locked row: two deliveries racing must not both be kept.
    snapshot = _deliverable(CameraSnapshot.objects.select_for_update().filter(pk=snapshot_id).first(), now=now)
    snapshot.image, snapshot.redacted = names
    snapshot.sha256, snapshot.content_type, snapshot.size_bytes = checked.sha256, checked.content_type, checked.size
    snapshot.width, snapshot.height = checked.width, checked.height
    snapshot.redacted_sha256 = hashlib.sha256(redacted.data).hexdigest()
    snapshot.faces_found = len(redacted.faces)
    snapshot.captured_at, snapshot.delivered_at = captured_at, now
    snapshot.save()
    return snapshot


def camera_snapshot_view(*, snapshot_id: int, actor: Actor, ip_address: str | None):
    """A responder looks at a delivered snapshot, faces blurred; the look is in the view audit."""
    if not actor.is_responder:
        raise Forbidden("Only responders may see camera pictures.")
    snapshot = CameraSnapshot.objects.select_related("camera").filter(pk=snapshot_id).first()
    if snapshot is None:
        raise NotFound("Snapshot not found.")
    if snapshot.delivered_at is None:
        raise Conflict("The camera has not sent this snapshot (yet).", code="snapshot_not_ready")
    try:
        handle = snapshot.redacted.storage.open(snapshot.redacted.name, "rb")
    except FileNotFoundError:
        raise NotFound("The snapshot file is missing from storage.", code="evidence_missing") from None
    try:
        with transaction.atomic():
            privacy_services.view_record(
                actor=actor, action=ViewAuditEntry.Action.EVIDENCE_VIEW, subject_kind=SNAPSHOT_AUDIT_SUBJECT,
                subject_id=snapshot.camera.camera_id, delivery=ViewAuditEntry.Delivery.FILE, ip_address=ip_address,
                details={"snapshot_id": snapshot.pk, "sha256": snapshot.sha256, "faces_blurred": snapshot.faces_found},
            )
    except BaseException:
        handle.close()  # a look that cannot be recorded is not handed out
        raise
    return snapshot, handle


def sos_camera_clip_view(*, clip_id: int, actor: Actor, ip_address: str | None):
    """A responder plays a pre-roll clip, faces blurred; the look is in the view audit (under its SOS)."""
    if not actor.is_responder:
        raise Forbidden("Only officers and dispatchers may see evidence.")
    clip = SOSCameraClip.objects.filter(pk=clip_id).first()
    if clip is None:
        raise NotFound("Clip not found.")
    try:
        handle = clip.redacted.storage.open(clip.redacted.name, "rb")
    except FileNotFoundError:
        raise NotFound("The evidence file is missing from storage.", code="evidence_missing") from None
    try:
        with transaction.atomic():
            privacy_services.view_record(
                actor=actor, action=ViewAuditEntry.Action.EVIDENCE_VIEW, subject_kind=ViewAuditEntry.Subject.SOS,
                subject_id=clip.sos_id, delivery=ViewAuditEntry.Delivery.FILE, ip_address=ip_address,
                details={"camera_clip_id": clip.pk, "sha256": clip.sha256},
            )
    except BaseException:
        handle.close()
        raise
    return clip, handle


def sos_camera_evidence_view(*, evidence_id: int, actor: Actor, ip_address: str | None) -> tuple[SOSCameraEvidence, bytes]:
    """A responder looks at a pre-roll key frame: faces blurred (PNG, made on each look: a pre-roll is a few
    small frames), the look in the SOS's view audit. A look that cannot be recorded is not handed out."""
    if not actor.is_responder:
        raise Forbidden("Only officers and dispatchers may see evidence.")
    row = SOSCameraEvidence.objects.filter(pk=evidence_id).first()
    if row is None:
        raise NotFound("Evidence not found.")
    try:
        with row.image.storage.open(row.image.name, "rb") as handle:
            original = handle.read()
    except FileNotFoundError:
        raise NotFound("The evidence file is missing from storage.", code="evidence_missing") from None
    redacted = redaction.blur_faces(original)
    with transaction.atomic():
        privacy_services.view_record(
            actor=actor, action=ViewAuditEntry.Action.EVIDENCE_VIEW, subject_kind=ViewAuditEntry.Subject.SOS,
            subject_id=row.sos_id, delivery=ViewAuditEntry.Delivery.FILE, ip_address=ip_address,
            details={"camera_evidence_id": row.pk, "sha256": row.sha256, "faces_blurred": len(redacted.faces)},
        )
    return row, redacted.data


# Originals, for holders of the unredacted-evidence permission ---------------------------------------------
# Found here, handed out and audited by privacy.services.evidence_original_view, as incident images are.


def _require_evidence_viewer(actor: Actor) -> None:
    if not actor.is_responder:
        raise Forbidden("Only officers and dispatchers may see evidence.")


def camera_snapshot_view_unredacted(*, snapshot_id: int, actor: Actor, ip_address: str | None, reason: str):
    """A snapshot as the camera sent it, faces unblurred; in the camera's view audit with the reason."""
    _require_evidence_viewer(actor)
    snapshot = CameraSnapshot.objects.select_related("camera").filter(pk=snapshot_id).first()
    if snapshot is None:
        raise NotFound("Snapshot not found.")
    if snapshot.delivered_at is None:
        raise Conflict("The camera has not sent this snapshot (yet).", code="snapshot_not_ready")
    return privacy_services.evidence_original_view(
        actor=actor, ip_address=ip_address, reason=reason, file=snapshot.image, content_type=snapshot.content_type,
        filename=f"camera-{snapshot.camera.camera_id}-{snapshot.pk}-original.{snapshot.image.name.rsplit('.', 1)[-1]}",
        subject_kind=ViewAuditEntry.Subject.CAMERA, subject_id=snapshot.camera.camera_id,
        details={"snapshot_id": snapshot.pk, "sha256": snapshot.sha256},
    )


def sos_camera_evidence_view_unredacted(*, evidence_id: int, actor: Actor, ip_address: str | None, reason: str):
    """A pre-roll key frame as the camera sent it; in the SOS's view audit with the reason."""
    return _sos_preroll_original(SOSCameraEvidence, evidence_id, actor=actor, ip_address=ip_address, reason=reason)


def sos_camera_clip_view_unredacted(*, clip_id: int, actor: Actor, ip_address: str | None, reason: str):
    """A pre-roll clip as the worker sent it; in the SOS's view audit with the reason."""
    return _sos_preroll_original(SOSCameraClip, clip_id, actor=actor, ip_address=ip_address, reason=reason)


# What differs between the two kinds of pre-roll: the file field, the file name's word, the audit's key.
_PREROLL_ORIGINALS = {
    SOSCameraEvidence: ("image", "camera", "camera_evidence_id", "Evidence not found."),
    SOSCameraClip: ("clip", "camera-clip", "camera_clip_id", "Clip not found."),
}


def _sos_preroll_original(model, pk: int, *, actor: Actor, ip_address: str | None, reason: str):
    _require_evidence_viewer(actor)
    field, word, audit_key, missing = _PREROLL_ORIGINALS[model]
    row = model.objects.filter(pk=pk).first()
    if row is None:
        raise NotFound(missing)
    file = getattr(row, field)
    return privacy_services.evidence_original_view(
        actor=actor, ip_address=ip_address, reason=reason, file=file, content_type=row.content_type,
        filename=f"sos-{row.sos_id}-{word}-{row.pk}-original.{file.name.rsplit('.', 1)[-1]}",
        subject_kind=ViewAuditEntry.Subject.SOS, subject_id=row.sos_id, details={audit_key: row.pk, "sha256": row.sha256},
    )
