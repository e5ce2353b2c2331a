"""Every state change of incidents: beacons and devices, detection reports, the response workflow, alert rows.

Services validate before they write and publish realtime events through `realtime.events.publish`
inside their transaction. Alerts to the outside world are only written here, as `AlertDelivery`
rows in the same transaction; `manage.py send_alerts` sends them.
"""

import dataclasses
import errno
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from common.actors import Actor
from common.errors import Conflict, Forbidden, InvalidInput, NotFound
from common.geo import position_errors
from common.tokens import hash_secret
from incidents import hooks
from incidents.evidence import EvidenceAudio, EvidenceImage, inspect_audio, inspect_image
from incidents.models import (
    AIEvent,
    AlertDelivery,
    AlertTarget,
    Beacon,
    DeliveryAttempt,
    DetectionKind,
    Device,
    Incident,
    IncidentAudio,
    IncidentAuditEntry,
    IncidentImage,
    IncidentSignal,
)
from incidents.permissions import require_may_act_on_incident, require_may_assign_officer, require_may_see_incident
from incidents.storage import evidence_path, evidence_storage
from realtime import rooms
from realtime.events import publish

logger = logging.getLogger(__name__)

MAX_IMAGES_PER_REPORT = 3
MAX_DETAILS_BYTES = 16 * 1024
MAX_DESCRIPTION_CHARS = 5000


# Beacons and devices ----------------------------------------------------------------------------


@transaction.atomic
def beacon_create(
    *,
    beacon_id: str,
    name: str,
    building: str = "",
    floor: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    is_active: bool = True,
) -> Beacon:
    beacon = Beacon(
        beacon_id=beacon_id.strip(), name=name.strip(), building=building.strip(), floor=floor.strip(),
        latitude=latitude, longitude=longitude, is_active=is_active,
    )
    fields = position_errors(latitude, longitude, required=False)
    if not beacon.name:
        fields["name"] = ["This field may not be blank."]
    try:
        Beacon._meta.get_field("beacon_id").run_validators(beacon.beacon_id)
    except ValidationError as exc:
        fields["beacon_id"] = exc.messages
    if not beacon.beacon_id:
        fields["beacon_id"] = ["This field may not be blank."]
    if fields:
        raise InvalidInput("Invalid beacon.", fields=fields)
    if Beacon.objects.filter(beacon_id=beacon.beacon_id).exists():
        raise Conflict(f"Beacon {beacon.beacon_id!r} already exists.", code="beacon_exists")
    beacon.save()
    return beacon


def new_device_key() -> str:
    return "nkd_" + secrets.token_urlsafe(32)


@transaction.atomic
def device_create(
    *, device_id: str, beacon: Beacon | str | None = None, name: str = "", kind: str = Device.Kind.CAMERA
) -> tuple[Device, str]:
    """Register a detection device. Returns it with its API key, which is never stored or shown again."""
    device_id = device_id.strip()
    fields = {}
    try:
        Device._meta.get_field("device_id").run_validators(device_id)
    except ValidationError as exc:
        fields["device_id"] = exc.messages
    if not device_id:
        fields["device_id"] = ["This field may not be blank."]
    if kind not in Device.Kind.values:
        fields["kind"] = [f"Use one of {', '.join(Device.Kind.values)}."]
    if fields:
        raise InvalidInput("Invalid device.", fields=fields)
    if isinstance(beacon, str):
        beacon_id, beacon = beacon, Beacon.objects.filter(beacon_id=beacon).first()
        if beacon is None:
            raise NotFound(f"Beacon {beacon_id!r} not found.", code="beacon_not_found")
    if Device.objects.filter(device_id=device_id).exists():
        raise Conflict(f"Device {device_id!r} already exists.", code="device_exists")
    raw_key = new_device_key()
    device = Device.objects.create(
        device_id=device_id, beacon=beacon, name=name.strip() or device_id, kind=kind, api_key_hash=hash_secret(raw_key)
    )
    return device, raw_key


@transaction.atomic
def device_key_rotate(*, device_id: str) -> tuple[Device, str]:
    """Give a device a new key; the old one stops working at once."""
    device = Device.objects.select_for_update().filter(device_id=device_id).first()
    if device is None:
        raise NotFound(f"Device {device_id!r} not found.")
    raw_key = new_device_key()
    device.api_key_hash = hash_secret(raw_key)
    device.save(update_fields=["api_key_hash"])
    return device, raw_key


# Detection reports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DetectionResult:
    ai_event: AIEvent
    threshold: float
    incident: Incident | None = None
    signal: IncidentSignal | None = None
    images: list[IncidentImage] = field(default_factory=list)
    audio: IncidentAudio | None = None
    evidence_failures: list = field(default_factory=list)
    replayed: bool = False  # The answer to a report re-sent with an idempotency key already used.

    @property
    def outcome(self) -> str:
        return self.ai_event.outcome

    @property
    def created(self) -> bool:
        return self.outcome == AIEvent.Outcome.INCIDENT_CREATED


IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def _validate_report(*, kind: str, confidence_score: float, description: str, details: dict, image_count: int,
                     idempotency_key: str | None = None) -> None:
    fields = {}
    if idempotency_key is not None and not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
        fields["idempotency_key"] = ["1 to 64 letters, digits, '.', '_', ':' or '-'."]
    if kind not in DetectionKind.values:
        fields["kind"] = [f"Use one of {', '.join(DetectionKind.values)}."]
    if isinstance(confidence_score, bool) or not isinstance(confidence_score, (int, float)) or not (
        0.0 <= confidence_score <= 1.0
    ):
        fields["confidence_score"] = ["Must be a number between 0.0 and 1.0."]
    if not description.strip():
        fields["description"] = ["This field may not be blank."]
    elif len(description) > MAX_DESCRIPTION_CHARS:
        fields["description"] = [f"Ensure this field has no more than {MAX_DESCRIPTION_CHARS} characters."]
    if not isinstance(details, dict):
        fields["details"] = ["Must be a JSON object."]
    elif len(json.dumps(details)) > MAX_DETAILS_BYTES:
        fields["details"] = [f"Must be at most {MAX_DETAILS_BYTES} bytes of JSON."]
    if fields:
        raise InvalidInput("Invalid detection report.", fields=fields)
    if image_count > MAX_IMAGES_PER_REPORT:
        raise InvalidInput(
            f"Maximum {MAX_IMAGES_PER_REPORT} images allowed",
            fields={"images": [f"Maximum {MAX_IMAGES_PER_REPORT} images allowed; {image_count} were sent."]},
        )


def _check_reporter(*, device: Device, beacon_id: str, device_id: str | None) -> None:
    """A device speaks only for itself, and a device bound to a beacon only for that beacon."""
    if not device.is_active:
        raise Forbidden("This device is inactive.", code="device_inactive")
    if device_id and device_id != device.device_id:
        raise Forbidden(
            f"device_id {device_id!r} is not the authenticated device ({device.device_id}).", code="device_mismatch"
        )
    if not device.may_report_for(beacon_id):
        raise Forbidden(
            f"Device {device.device_id} may report only for beacon {device.beacon.beacon_id}.", code="beacon_mismatch"
        )


def _active_beacon(beacon_id: str, *, lock: bool = False) -> Beacon:
    qs = Beacon.objects.select_for_update() if lock else Beacon.objects.all()
    beacon = qs.filter(beacon_id=beacon_id, is_active=True).first()
    if beacon is None:
        raise NotFound(f"Beacon {beacon_id!r} not found or inactive.", code="beacon_not_found")
    return beacon


@dataclass(frozen=True)
class EvidenceFailure:
    """An image of a report that could not be stored, and why, in words an operator understands."""

    number: int
    reason: str

    def as_dict(self) -> dict:
        return {"number": self.number, "reason": self.reason}


_REASON_BY_ERRNO = {errno.ENOSPC: "disk full", errno.EDQUOT: "storage quota exceeded",
                    errno.EROFS: "storage is read-only", errno.EACCES: "storage refused access",
                    errno.EPERM: "storage refused access", errno.EIO: "storage input/output error"}


def _failure_reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.errno in _REASON_BY_ERRNO:
        return _REASON_BY_ERRNO[error.errno]
    return "storage unavailable"


Evidence = EvidenceImage | EvidenceAudio


def _store_evidence(evidence: list[Evidence]) -> tuple[list[tuple[int, str, Evidence]], list[EvidenceFailure]]:
    """Save each file (images, then a sound clip); one that fails (full or read-only disk, storage down) is reported, not raised,
    and whatever part of it was written is deleted again."""
    storage = evidence_storage()
    stored, failures = [], []
    for number, item in enumerate(evidence, start=1):
        name = evidence_path(item.content_type)
        try:
            stored.append((number, storage.save(name, ContentFile(item.data)), item))
        except Exception as error:
            logger.warning("Evidence image %s could not be stored (%s): %s", number, _failure_reason(error), error)
            failures.append(EvidenceFailure(number=number, reason=_failure_reason(error)))
            _discard_evidence([name])
    return stored, failures


def _discard_evidence(names: list[str]) -> None:
    storage = evidence_storage()
    for name in names:
        try:
            if storage.exists(name):
                storage.delete(name)
        except Exception:  # pragma: no cover - the original error matters more than a cleanup failure
            logger.exception("Could not delete evidence %s", name)


def ai_detection_report(
    *,
    kind: str,
    device: Device,
    beacon_id: str,
    confidence_score: float,
    description: str,
    details: dict | None = None,
    images: list | tuple = (),
    audio=None,
    device_id: str | None = None,
    idempotency_key: str | None = None,
) -> DetectionResult:
    """Record a detection; at or above the kind's threshold it opens an incident or joins a recent one.

    Everything is checked before anything is written. The incident and its alerts are committed first;
    the images are stored afterwards, outside that transaction, so that neither a slow upload holds the
    beacon lock nor a full or read-only evidence disk costs an alert. Images that could not be stored
    are named in the result and on the incident's audit trail. `audio` is an optional sound clip (a scream
    detector's evidence), checked by decoding it like the images and stored after them.

    A report carrying an `idempotency_key` this device has used before is not stored again: the
    result is the original one (`replayed`), so a worker that re-sends after a crash opens no second
    incident and raises no second round of alerts.
    """
    details = {} if details is None else details
    _validate_report(
        kind=kind, confidence_score=confidence_score, description=description, details=details,
        image_count=len(images), idempotency_key=idempotency_key,
    )
    _check_reporter(device=device, beacon_id=beacon_id, device_id=device_id)
    original = _earlier_report(device=device, idempotency_key=idempotency_key)
    if original is not None:
        return original
    evidence = [
        inspect_image(upload, number=number, max_bytes=settings.EVIDENCE_MAX_BYTES)
        for number, upload in enumerate(images, start=1)
    ]
    if audio is not None:
        evidence.append(inspect_audio(audio, max_bytes=settings.EVIDENCE_MAX_BYTES))
    _active_beacon(beacon_id)
    try:
        result = _record_report(
            kind=kind, device=device, beacon_id=beacon_id, confidence_score=float(confidence_score),
            description=description.strip(), details=details, idempotency_key=idempotency_key,
        )
    except IntegrityError:
        # The same key arrived twice at once and the other request committed first: answer with its result.
        original = _earlier_report(device=device, idempotency_key=idempotency_key)
        if original is None:
            raise
        return original
    if result.replayed or not evidence:
        return result
    stored, failures = _store_evidence(evidence)
    try:
        images, clip = _attach_evidence(stored, ai_event=result.ai_event, incident=result.incident, failures=failures)
    except Exception:
        # The report and its alerts are in; only the evidence rows are not. Say so, leave no orphan file.
        logger.exception("Evidence of AI event %s could not be recorded", result.ai_event.pk)
        _discard_evidence([name for _, name, _ in stored])
        failures = sorted(failures + [EvidenceFailure(number=n, reason="could not be recorded") for n, _, _ in stored],
                          key=lambda failure: failure.number)
        images, clip = [], None
    return dataclasses.replace(result, images=images, audio=clip, evidence_failures=failures)


def _earlier_report(*, device: Device, idempotency_key: str | None) -> DetectionResult | None:
    """The result of this device's report with this key, as it was first answered; None if there was none."""
    if not idempotency_key:
        return None
    ai_event = (
        AIEvent.objects.select_related("incident__beacon", "incident__assigned_to", "beacon")
        .filter(device=device, idempotency_key=idempotency_key).first()
    )
    if ai_event is None:
        return None
    return DetectionResult(
        ai_event=ai_event, threshold=ai_event.threshold, incident=ai_event.incident,
        signal=IncidentSignal.objects.filter(ai_event=ai_event).first(), images=list(ai_event.images.order_by("pk")),
        audio=ai_event.audio_clips.order_by("pk").first(), replayed=True,
    )


@transaction.atomic
def _record_report(
    *, kind: str, device: Device, beacon_id: str, confidence_score: float, description: str, details: dict,
    idempotency_key: str | None = None,
) -> DetectionResult:
    # The beacon row lock (PostgreSQL) makes "look for a recent incident, else create one" a single step
    # per beacon: of two concurrent reports, the second waits here and then finds the first one's incident.
    # SQLite ignores the lock but needs none: BEGIN IMMEDIATE admits one writing transaction at a time.
    beacon = _active_beacon(beacon_id, lock=True)
    # Under the beacon lock, so that of two copies of one report the second sees the first.
    original = _earlier_report(device=device, idempotency_key=idempotency_key)
    if original is not None:
        return original
    now = timezone.now()
    threshold = float(settings.INCIDENT_THRESHOLDS[kind])
    Device.objects.filter(pk=device.pk).update(last_seen_at=now)
    ai_event = AIEvent.objects.create(
        kind=kind, beacon=beacon, device=device, confidence_score=confidence_score, threshold=threshold,
        description=description, details=details, outcome=AIEvent.Outcome.LOGGED_ONLY, received_at=now,
        idempotency_key=idempotency_key or None,
    )
    if confidence_score < threshold:
        return DetectionResult(ai_event=ai_event, threshold=threshold)

    window = timedelta(seconds=settings.INCIDENT_DEDUP_WINDOW_SECONDS)
    incident = (
        Incident.objects.select_related("beacon", "assigned_to")
        .filter(beacon=beacon, kind=kind, status__in=Incident.OPEN_STATUSES, last_signal_at__gte=now - window)
        .order_by("-last_signal_at")
        .first()
    )
    created = incident is None
    # The worker's priority_hint sets the priority (a fight with a woman present is critical, one without high);
    # a later report may raise an open incident's priority, never lower it.
    hinted = Incident.priority_from_hint(details.get("priority_hint"))
    if created:
        incident = Incident.objects.create(
            kind=kind, beacon=beacon, priority=hinted or Incident.PRIORITY_BY_KIND[kind], description=description,
            first_signal_at=now, last_signal_at=now, signal_count=1, created_at=now,
        )
    else:
        incident.last_signal_at = max(incident.last_signal_at, now)
        incident.signal_count += 1
        update_fields = ["last_signal_at", "signal_count", "updated_at"]
        if hinted and incident.is_below(hinted):
            incident.priority = hinted
            update_fields.append("priority")
        incident.save(update_fields=update_fields)
    signal = IncidentSignal.objects.create(
        incident=incident, signal_type=IncidentSignal.TYPE_BY_KIND[kind], ai_event=ai_event, device=device,
        confidence_score=confidence_score, description=description, received_at=now,
    )
    ai_event.incident = incident
    ai_event.outcome = AIEvent.Outcome.INCIDENT_CREATED if created else AIEvent.Outcome.SIGNAL_ADDED
    ai_event.save(update_fields=["incident", "outcome"])

    report = {"ai_event_id": ai_event.pk, "confidence_score": confidence_score}
    if created:
        IncidentAuditEntry.record(incident, action="created", actor=Actor(device=device), details=report)
        _publish(incident, event="incident_created", action="created", by=device.label, now=now)
        _queue_alerts(incident, now=now)
    else:
        # Not an alert: no incident_created, no mail, no webhook; dashboards only refresh the counts.
        IncidentAuditEntry.record(incident, action="signal_added", actor=Actor(device=device),
                                  from_status=incident.status, details=report)
        _publish(incident, event="incident_updated", action="signal_added", by=device.label, now=now)
    if kind in (DetectionKind.VIOLENCE, DetectionKind.SCREAM):
        # The cameras app joins it to an SOS its camera is linked to, raising its priority.
        if any(hooks.camera_incident_reported.fire(
            incident=incident, device=device, camera_id=details.get("camera"), now=now
        )):
            incident.refresh_from_db(fields=["priority"])
    return DetectionResult(ai_event=ai_event, threshold=threshold, incident=incident, signal=signal)


@transaction.atomic
def _attach_evidence(
    stored: list[tuple[int, str, Evidence]], *, ai_event: AIEvent, incident: Incident | None,
    failures: list[EvidenceFailure],
) -> tuple[list[IncidentImage], IncidentAudio | None]:
    now = timezone.now()
    images = [
        IncidentImage.objects.create(
            ai_event=ai_event, incident=incident, image=name, sha256=item.sha256, content_type=item.content_type,
            size_bytes=item.size, width=item.width, height=item.height, uploaded_at=now,
            description=f"AI Detection Image {number} ({ai_event.kind.upper()})",
        )
        for number, name, item in stored if isinstance(item, EvidenceImage)
    ]
    clip = next((
        IncidentAudio.objects.create(
            ai_event=ai_event, incident=incident, audio=name, sha256=item.sha256, content_type=item.content_type,
            size_bytes=item.size, duration_s=item.duration_s, sample_rate=item.sample_rate, uploaded_at=now,
            description=f"AI Detection Audio ({ai_event.kind.upper()})",
        )
        for _, name, item in stored if isinstance(item, EvidenceAudio)
    ), None)
    if failures and incident is not None:
        IncidentAuditEntry.record(
            incident, action="evidence_not_stored", actor=Actor(device=ai_event.device),
            details={"message": evidence_failure_message(failures), "ai_event_id": ai_event.pk,
                     "images": [failure.as_dict() for failure in failures]},
        )
    return images, clip


def evidence_failure_message(failures: list[EvidenceFailure]) -> str:
    """'2 images could not be stored: disk full' (the reasons of all of them, once each)."""
    reasons = ", ".join(dict.fromkeys(failure.reason for failure in failures))
    noun = "image" if len(failures) == 1 else "images"
    return f"{len(failures)} {noun} could not be stored: {reasons}"


def _publish(incident: Incident, *, event: str, action: str, by: str, now: datetime, extra: dict | None = None) -> None:
    payload = {**incident.event_payload(), "action": action, "by": by, "timestamp": now.isoformat(), **(extra or {})}
    publish(event=event, rooms=[rooms.INCIDENTS_CHANNEL], payload=payload)


def _queue_alerts(incident: Incident, *, now: datetime) -> None:
    alert_deliveries_queue(event="incident_created", incident=incident, payload=incident.event_payload(), now=now)


@transaction.atomic
def incident_raise(
    *, kind: str, beacon: Beacon, priority: str, description: str, signal_type: str, actor: Actor,
    device: Device | None = None, details: dict | None = None, now: datetime | None = None,
) -> tuple[Incident, bool]:
    """Open an incident for something the platform noticed itself (a camera gone offline), or add a signal
    to the open incident of that kind at that beacon: such incidents group until resolved. Returns it and
    whether it is new."""
    now = now or timezone.now()
    Beacon.objects.select_for_update().filter(pk=beacon.pk).first()  # one "find or open" per beacon at a time
    incident = (
        Incident.objects.select_related("beacon", "assigned_to")
        .filter(beacon=beacon, kind=kind, status__in=Incident.OPEN_STATUSES).order_by("-last_signal_at").first()
    )
    created = incident is None
    if created:
        incident = Incident.objects.create(
            kind=kind, beacon=beacon, priority=priority, description=description, first_signal_at=now,
            last_signal_at=now, signal_count=1, created_at=now,
        )
    else:
        incident.last_signal_at = max(incident.last_signal_at, now)
        incident.signal_count += 1
        incident.save(update_fields=["last_signal_at", "signal_count", "updated_at"])
    IncidentSignal.objects.create(
        incident=incident, signal_type=signal_type, device=device, description=description, received_at=now
    )
    action = "created" if created else "signal_added"
    IncidentAuditEntry.record(incident, action=action, actor=actor, details=details)
    _publish(incident, event="incident_created" if created else "incident_updated", action=action, by=actor.label,
             now=now)
    if created:
        _queue_alerts(incident, now=now)
    return incident, created


@transaction.atomic
def incident_raise_priority(*, incident_id, priority: str, actor: Actor, reason: str) -> Incident:
    """Raise an open incident's priority (never lower it), with the reason in its timeline."""
    incident = _lock_open_incident(incident_id, actor)
    if not incident.is_below(priority):
        return incident
    details = {"note": reason, "from_priority": incident.priority, "to_priority": priority}
    incident.priority = priority
    return _change(incident, to_status=incident.status, action="priority_raised", actor=actor, details=details,
                   extra_fields=("priority",))


# The response workflow --------------------------------------------------------------------------


def _lock_open_incident(incident_id, actor: Actor) -> Incident:
    """Re-read the incident under a row lock, so two responders cannot both move it from one state, and
    check on the locked row that `actor` may act on it (officers: their unit's or unassigned)."""
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer join to assigned_to.
    incident = (
        Incident.objects.select_for_update(of=("self",)).select_related("beacon", "assigned_to")
        .filter(pk=incident_id).first()
    )
    if incident is None:
        raise NotFound("Incident not found.")
    if actor.is_officer:
        require_may_see_incident(actor, incident)
    if not incident.is_open:
        raise Conflict(f"Incident is {incident.status}; it can no longer change.", code="incident_closed")
    require_may_act_on_incident(actor, incident)
    return incident


def _change(incident: Incident, *, to_status: str, action: str, actor: Actor, stamp: str | None = None,
            details: dict | None = None, extra_fields: tuple[str, ...] = ()) -> Incident:
    now = timezone.now()
    from_status = incident.status
    incident.status = to_status
    update_fields = ["status", "updated_at", *extra_fields]
    if stamp:
        setattr(incident, stamp, now)
        update_fields.append(stamp)
    incident.save(update_fields=update_fields)
    IncidentAuditEntry.record(incident, action=action, actor=actor, from_status=from_status, details=details)
    _publish(incident, event="incident_updated", action=action, by=actor.label, now=now, extra=details)
    # Only targets that subscribe to this status change get it (targets=[]: none from settings).
    alert_deliveries_queue(event=f"incident_{action}", incident=incident, payload=incident.event_payload(),
                           targets=[], now=now)
    return incident


@transaction.atomic
def incident_acknowledge(*, incident_id, actor: Actor, note: str = "") -> Incident:
    incident = _lock_open_incident(incident_id, actor)
    if incident.status != Incident.Status.CREATED:
        raise Conflict(f"Incident is already {incident.status}.", code="already_acknowledged")
    return _change(incident, to_status=Incident.Status.ACKNOWLEDGED, action="acknowledged", actor=actor,
                   stamp="acknowledged_at", details={"note": note} if note else None)


@transaction.atomic
def incident_assign(*, incident_id, officer_username: str, actor: Actor, note: str = "") -> Incident:
    """Put an officer in charge; an incident already in progress stays in progress (a handover)."""
    officer = User.objects.filter(username=officer_username, role=User.Role.OFFICER, is_active=True).first()
    if officer is None:
        raise InvalidInput("Unknown officer.", fields={"officer": [f"No active officer {officer_username!r}."]})
    if officer.unit_id and officer.unit.status == officer.unit.Status.OFF_DUTY:
        raise Conflict(f"{officer.username}'s unit {officer.unit.unit_number} is off duty.", code="unit_off_duty")
    incident = _lock_open_incident(incident_id, actor)
    require_may_assign_officer(actor, officer)
    if incident.assigned_to_id == officer.pk:
        raise Conflict(f"Incident is already assigned to {officer.username}.", code="already_assigned")
    incident.assigned_to = officer
    details = {"officer": officer.username, "unit_number": officer.unit.unit_number if officer.unit_id else None}
    if note:
        details["note"] = note
    return _change(incident, to_status=incident.status_after_assign(), action="assigned", actor=actor,
                   stamp="assigned_at", details=details, extra_fields=("assigned_to",))


@transaction.atomic
def incident_start(*, incident_id, actor: Actor, note: str = "") -> Incident:
    """The assigned officer is on scene (or on the way): the incident is in progress."""
    incident = _lock_open_incident(incident_id, actor)
    if incident.status != Incident.Status.ASSIGNED:
        raise Conflict(f"Only an assigned incident can start; this one is {incident.status}.", code="not_assigned")
    return _change(incident, to_status=Incident.Status.IN_PROGRESS, action="started", actor=actor,
                   details={"note": note} if note else None)


@transaction.atomic
def incident_resolve(*, incident_id, actor: Actor, resolution_note: str) -> Incident:
    if not resolution_note.strip():
        raise InvalidInput("A resolution note is required.",
                           fields={"resolution_note": ["This field may not be blank."]})
    incident = _lock_open_incident(incident_id, actor)
    incident.resolution_note = resolution_note.strip()
    return _change(incident, to_status=Incident.Status.RESOLVED, action="resolved", actor=actor, stamp="resolved_at",
                   details={"resolution_note": incident.resolution_note}, extra_fields=("resolution_note",))


# Alert deliveries -------------------------------------------------------------------------------


def alert_deliveries_queue(
    *, event: str, payload: dict, incident: Incident | None = None, sos=None,
    targets: list[tuple[str, ...]] | None = None, now: datetime | None = None,
) -> list[AlertDelivery]:
    """Write one alert row per target for `event` about an incident or an SOS, in the caller's transaction.

    The targets are those given as (channel, address[, format]), or else the settings' recipients for a
    raising event; in both cases every active AlertTarget subscribed to `event` is added (once per
    channel and address).
    """
    now = now or timezone.now()
    if targets is None:
        targets = configured_alert_targets() if event in AlertTarget.RAISED_EVENTS else []
    chosen = {(channel, target): (fmt[0] if fmt else AlertTarget.Format.JSON) for channel, target, *fmt in targets}
    for subscriber in AlertTarget.objects.filter(is_active=True):
        if subscriber.subscribes_to(event):
            chosen[(subscriber.channel, subscriber.target)] = subscriber.format
    return AlertDelivery.objects.bulk_create(
        AlertDelivery(incident=incident, sos=sos, event=event, channel=channel, target=target, format=fmt,
                      payload=payload, next_attempt_at=now, created_at=now)
        for (channel, target), fmt in chosen.items()
    )


def configured_alert_targets() -> list[tuple[str, str]]:
    """The recipients in settings: told of every alert raised (ALERT_EMAIL_RECIPIENTS, ALERT_WEBHOOK_URLS)."""
    return [(AlertDelivery.Channel.EMAIL, address) for address in settings.ALERT_EMAIL_RECIPIENTS] + [
        (AlertDelivery.Channel.WEBHOOK, url) for url in settings.ALERT_WEBHOOK_URLS
    ]


def alert_deliveries_claim(
    *, limit: int, lease: timedelta, sender: str = "", due_by: datetime | None = None,
    now: datetime | None = None, exclude_targets: frozenset[str] = frozenset(),
) -> list[AlertDelivery]:
    """Take up to `limit` deliveries due by `due_by` for this sender, each until the time of its claim + lease.

    Each claim is a conditional UPDATE that succeeds only while the row is unclaimed (or its lease
    has run out): of two senders racing for a row, exactly one updates it, so no row is sent twice.
    The lease is measured from each claim (never from when the caller's round began), and rows for
    `exclude_targets` (targets this sender is still busy with) are left for later.
    """
    due_by = due_by or now or timezone.now()
    candidates = list(
        AlertDelivery.objects.filter(delivered_at__isnull=True, dead_at__isnull=True, next_attempt_at__lte=due_by)
        .exclude(target__in=exclude_targets)
        .order_by("next_attempt_at", "id").values_list("pk", "target")[: limit * 4]
    )
    claimed, targets = [], set()
    for pk, target in candidates:
        if len(claimed) >= limit:
            break
        if target in targets:  # one row per target at a time: the next waits for this one's answer
            continue
        claimed_at = now or timezone.now()
        claimable = Q(claimed_until__isnull=True) | Q(claimed_until__lt=claimed_at)
        if AlertDelivery.objects.filter(claimable, pk=pk, delivered_at__isnull=True, dead_at__isnull=True).update(
            claimed_until=claimed_at + lease, claimed_by=sender
        ):
            claimed.append(pk)
            targets.add(target)
    return list(
        AlertDelivery.objects.filter(pk__in=claimed).select_related("incident__beacon", "sos").order_by("id")
    )


def alert_deliveries_renew(*, sender: str, ids: list[int], lease: timedelta) -> int:
    """Extend this sender's claims on the rows it is still sending: a live sender keeps them, a dead one loses them."""
    if not ids:
        return 0
    return AlertDelivery.objects.filter(pk__in=ids, claimed_by=sender, delivered_at__isnull=True).update(
        claimed_until=timezone.now() + lease
    )


@transaction.atomic
def alert_delivery_record_attempt(
    *, delivery_id: int, succeeded: bool, started_at: datetime, duration_ms: int, status_code: int | None = None,
    error: str = "",
) -> AlertDelivery:
    """Log one try; a failure is tried again later, waiting twice as long each time (up to a cap),
    until ALERT_MAX_ATTEMPTS tries have failed: then the delivery is dead."""
    delivery = AlertDelivery.objects.select_for_update().get(pk=delivery_id)
    delivery.attempts += 1
    DeliveryAttempt.objects.create(
        delivery=delivery, number=delivery.attempts, started_at=started_at, duration_ms=duration_ms,
        succeeded=succeeded, status_code=status_code, error=error[:2000],
    )
    now = timezone.now()
    if succeeded:
        delivery.delivered_at = now
        delivery.last_error = ""
    else:
        delivery.last_error = error[:2000]
        delivery.next_attempt_at = now + AlertDelivery.backoff(
            delivery.attempts, base_seconds=settings.ALERT_RETRY_BASE_SECONDS,
            max_seconds=settings.ALERT_RETRY_MAX_SECONDS,
        )
        if delivery.attempts >= settings.ALERT_MAX_ATTEMPTS:
            delivery.dead_at = now
            logger.error("Alert %s to %s is dead after %s attempts: %s", delivery.pk, delivery.target,
                         delivery.attempts, delivery.last_error)
    delivery.claimed_until = None
    delivery.claimed_by = ""
    delivery.save(update_fields=["attempts", "delivered_at", "dead_at", "last_error", "next_attempt_at",
                                 "claimed_until", "claimed_by"])
    return delivery


@transaction.atomic
def alert_delivery_retry(*, delivery_id: int) -> AlertDelivery:
    """Queue a dead (or waiting) delivery for an attempt now; its attempt count starts again."""
    delivery = AlertDelivery.objects.select_for_update().filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("Alert delivery not found.")
    if delivery.delivered_at is not None:
        raise Conflict("This alert has been delivered already.", code="already_delivered")
    delivery.dead_at = None
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["dead_at", "attempts", "next_attempt_at"])
    return delivery
