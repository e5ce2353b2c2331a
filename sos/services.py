"""Every state change of an SOS: create, locate, acknowledge, assign, resolve, cancel; and unit positions.

Each service validates before it writes, runs in one transaction, records the audit trail and
publishes its realtime events through `realtime.events` (`publish`, `publish_many`) in that same transaction.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Unit, UnitLocation, User
from common.actors import Actor
from common import ratelimit
from common.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from common.geo import validate_position
from common.tokens import hash_secret, new_secret
from realtime import rooms
from realtime.events import Event, publish, publish_many
from sos.models import SOS, LocationUpdate, OfficerAssignment, SOSAuditEntry
from sos.permissions import (
    is_sos_owner,
    require_may_act,
    require_owner,
    require_owner_or_responder,
    require_responder,
)


def _audit(sos: SOS, *, action: str, actor: Actor, from_status: str = "", details: dict | None = None) -> None:
    SOSAuditEntry.record(sos, action=action, actor=actor, from_status=from_status, details=details)


def _require_point_budget(sos_id: int) -> None:
    """At most SOS_LOCATION_POINTS_PER_MINUTE points per SOS: a trail cannot be flooded, and a phone
    flushing a long offline queue is told when to send the rest (429 with Retry-After)."""
    limit = settings.SOS_LOCATION_POINTS_PER_MINUTE
    window = ratelimit.count(f"sos-points:{sos_id}", 60)
    if window.count > limit:
        raise TooManyRequests(
            f"Too many location points for this SOS: at most {limit} a minute. "
            f"Retry after {max(1, round(window.reset_in))} seconds.",
            retry_after=window.reset_in,
        )


def _lock_sos(sos_id: int, fields: tuple[str, ...] = ()) -> SOS:
    """Read the SOS under a row lock, so two dispatchers cannot both move it from one state.

    `fields` limits the read to those fields (any other is read when first used).
    """
    sos_rows = SOS.objects.select_for_update()
    if fields:
        sos_rows = sos_rows.only(*fields)
    try:
        sos = sos_rows.get(pk=sos_id)
    except SOS.DoesNotExist:
        raise NotFound("SOS not found") from None
    return sos


def _require_open(sos: SOS) -> SOS:
    if not sos.is_open:
        raise Conflict(f"SOS is {sos.status}; it can no longer change.", code="sos_closed")
    return sos


def _lock_open_sos(sos_id: int, *, actor: Actor) -> SOS:
    """The SOS locked for a responder's change: not found, then refused, then closed."""
    sos = _lock_sos(sos_id)
    require_may_act(actor, sos)
    return _require_open(sos)


# The units an SOS is assigned to, oldest assignment first, once per assignment. Raw SQL because it runs
# for every location point, and the ORM spent 860 of a point's 6,000 Python calls building it.
_ASSIGNED_UNIT_NUMBERS_SQL = """
    SELECT unit.unit_number FROM sos_officerassignment assignment
    JOIN accounts_unit unit ON unit.id = assignment.unit_id
    WHERE assignment.sos_request_id = %s ORDER BY assignment.assigned_at, assignment.id
"""


def _assigned_unit_numbers(sos: SOS) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(_ASSIGNED_UNIT_NUMBERS_SQL, [sos.pk])
        return [number for (number,) in cursor.fetchall()]


def _publish_sos_updated(sos: SOS, *, action: str, actor: Actor, extra: dict | None = None) -> None:
    payload = {
        "sos_id": sos.pk,
        "room_id": str(sos.room_id),
        "status": sos.status,
        "action": action,
        # Also sent to the raiser's own room: a role, never a staff username.
        "by": actor.role_label,
        "timestamp": timezone.now().isoformat(),
        **(extra or {}),
    }
    units = [rooms.unit_room(number) for number in _assigned_unit_numbers(sos)]
    publish(event="sos_updated", rooms=[rooms.SOS_CHANNEL, rooms.sos_room(sos.room_id), *units], payload=payload)


@transaction.atomic
def sos_create(
    *,
    name: str,
    sos_type: int,
    latitude: float,
    longitude: float,
    accuracy_m: float | None = None,
    phone: str = "",
    owner: User | None = None,
) -> tuple[SOS, str]:
    """Raise an SOS. Returns it with its access token, which is never stored or shown again."""
    validate_position(latitude, longitude, accuracy_m)
    if sos_type not in SOS.Type.values:
        raise InvalidInput("Invalid SOS type.", fields={"sos_type": ["Must be 0 (emergency) or 1 (alert)."]})
    access_token = new_secret()
    now = timezone.now()
    sos = SOS.objects.create(
        name=name.strip() or "Anonymous",
        sos_type=sos_type,
        owner=owner if owner is not None and owner.is_authenticated else None,
        phone=phone,
        access_token_hash=hash_secret(access_token),
        initial_latitude=latitude,
        initial_longitude=longitude,
        accuracy_m=accuracy_m,
        last_latitude=latitude,
        last_longitude=longitude,
        last_located_at=now,
        created_at=now,
    )
    LocationUpdate.objects.create(
        sos_request=sos, latitude=latitude, longitude=longitude, accuracy_m=accuracy_m, recorded_at=now,
        reported_by=sos.owner,
    )
    actor = Actor(user=sos.owner) if sos.owner else Actor(sos_token_hash=sos.access_token_hash)
    _audit(sos, action="created", actor=actor)
    publish(
        event="new_sos",
        rooms=[rooms.SOS_CHANNEL],
        payload={
            "sos_id": sos.pk,
            "room_id": str(sos.room_id),
            "name": sos.name,
            "sos_type": sos.sos_type,
            "status": sos.status,
            "latitude": latitude,
            "longitude": longitude,
            "accuracy_m": accuracy_m,
            "created_at": sos.created_at.isoformat(),
        },
    )
    return sos, access_token


@transaction.atomic
def sos_location_add(
    *,
    sos_id: int,
    latitude: float,
    longitude: float,
    actor: Actor,
    accuracy_m: float | None = None,
    recorded_at: datetime | None = None,
) -> LocationUpdate:
    """Append a point to an open SOS's trail (its owner or a responder) and stream it to the SOS room,
    its units and the tracking channel."""
    validate_position(latitude, longitude, accuracy_m)
    now = timezone.now()
    recorded_at = recorded_at or now
    # Not found, then refused, then a bad time, then closed: the order the API has always answered in.
    # Only what a point needs, and what the API's owner check reads: converting all 18 fields of an SOS
    # on every point is a measurable part of its cost.
    sos = _lock_sos(sos_id, fields=("room_id", "status", "owner", "access_token_hash", "last_located_at"))
    require_owner_or_responder(actor, sos)
    if actor.is_responder and not is_sos_owner(actor, sos):
        require_may_act(actor, sos)
    _require_point_budget(sos.pk)
    if recorded_at > now + timedelta(minutes=5):
        raise InvalidInput("Invalid time.", fields={"recorded_at": ["Cannot be in the future."]})
    _require_open(sos)
    point = LocationUpdate.objects.create(
        sos_request=sos, latitude=latitude, longitude=longitude, accuracy_m=accuracy_m,
        recorded_at=recorded_at, received_at=now, reported_by=actor.db_user,
    )
    # Points may arrive out of order (a phone flushing a queue); the newest one is the position.
    if recorded_at >= sos.last_located_at:
        sos.last_latitude, sos.last_longitude, sos.last_located_at = latitude, longitude, recorded_at
        sos.save(update_fields=["last_latitude", "last_longitude", "last_located_at", "updated_at"])

    units = _assigned_unit_numbers(sos)
    point_payload = {"sos_id": sos.pk, "room_id": str(sos.room_id), **point.as_point()}
    events = [Event(event="location_history", rooms=[rooms.sos_room(sos.room_id)], payload=point_payload)]
    if units:
        events.append(Event(event="unit_location_update", rooms=[rooms.unit_room(u) for u in units],
                            payload=point_payload))
    events.append(Event(
        event="location_tracking_update",
        rooms=[rooms.LOCATION_TRACKING_CHANNEL],
        payload={
            "kind": "sos",
            "unit_number": units[-1] if units else None,
            "sos_id": sos.pk,
            "latitude": latitude,
            "longitude": longitude,
            "accuracy_m": accuracy_m,
            "timestamp": recorded_at.isoformat(),
        },
    ))
    publish_many(events)
    return point


@transaction.atomic
def sos_acknowledge(*, sos_id: int, actor: Actor) -> SOS:
    sos = _lock_open_sos(sos_id, actor=actor)
    if sos.status != SOS.Status.ACTIVE:
        raise Conflict(f"SOS is already {sos.status}.", code="already_acknowledged")
    sos.status = SOS.Status.ACKNOWLEDGED
    sos.save(update_fields=["status", "updated_at"])
    _audit(sos, action="acknowledged", actor=actor, from_status=SOS.Status.ACTIVE)
    _publish_sos_updated(sos, action="acknowledged", actor=actor)
    return sos


@transaction.atomic
def sos_assign(*, sos_id: int, officer_name: str, unit_number: str, actor: Actor) -> OfficerAssignment:
    """Dispatch a unit to an open SOS; it is acknowledged and dispatched in one step."""
    sos = _lock_open_sos(sos_id, actor=actor)
    if actor.is_officer and unit_number != actor.unit_number:
        raise Forbidden("Officers may assign only their own unit; a dispatcher assigns others.", code="other_unit")
    if not officer_name.strip():
        raise InvalidInput("Officer name is required.", fields={"officer_name": ["This field may not be blank."]})
    try:
        unit = Unit.objects.select_for_update().get(unit_number=unit_number)
    except Unit.DoesNotExist:
        raise InvalidInput("Unknown unit.", fields={"unit_number": [f"No unit {unit_number!r}."]}) from None
    from_status = sos.status
    assignment = OfficerAssignment.objects.create(
        sos_request=sos, officer_name=officer_name.strip(), unit=unit, assigned_by=actor.db_user
    )
    sos.status = SOS.Status.DISPATCHED
    sos.save(update_fields=["status", "updated_at"])
    unit.status = Unit.Status.DISPATCHED
    unit.save(update_fields=["status"])
    details = {"officer_name": assignment.officer_name, "unit_number": unit.unit_number}
    _audit(sos, action="assigned", actor=actor, from_status=from_status, details=details)
    _publish_sos_updated(sos, action="assigned", actor=actor, extra=details)
    return assignment


def _close(sos: SOS, *, status: str, action: str, actor: Actor, note: str = "") -> SOS:
    from_status = sos.status
    sos.status = status
    sos.closed_at = timezone.now()
    sos.save(update_fields=["status", "closed_at", "updated_at"])
    # Units dispatched only to this SOS are free again.
    for unit in Unit.objects.filter(assignments__sos_request=sos).distinct():
        still_busy = unit.assignments.filter(sos_request__status__in=SOS.OPEN_STATUSES).exists()
        if not still_busy and unit.status == Unit.Status.DISPATCHED:
            unit.status = Unit.Status.AVAILABLE
            unit.save(update_fields=["status"])
    details = {"note": note} if note else {}
    _audit(sos, action=action, actor=actor, from_status=from_status, details=details)
    _publish_sos_updated(sos, action=action, actor=actor, extra=details)
    return sos


@transaction.atomic
def sos_resolve(*, sos_id: int, actor: Actor, note: str = "") -> SOS:
    sos = _lock_open_sos(sos_id, actor=actor)
    return _close(sos, status=SOS.Status.RESOLVED, action="resolved", actor=actor, note=note)


@transaction.atomic
def sos_cancel(*, sos_id: int, actor: Actor, reason: str = "") -> SOS:
    """The owner withdraws a false alarm."""
    sos = _lock_sos(sos_id)
    require_owner(actor, sos)
    _require_open(sos)
    return _close(sos, status=SOS.Status.CANCELLED, action="cancelled", actor=actor, note=reason)


@transaction.atomic
def unit_location_update(
    *, unit_number: str, latitude: float, longitude: float, actor: Actor,
    accuracy_m: float | None = None, recorded_at: datetime | None = None,
) -> UnitLocation:
    """Record a unit's position (an officer of that unit) and stream it to its room and the tracking channel."""
    validate_position(latitude, longitude, accuracy_m)
    now = timezone.now()
    recorded_at = recorded_at or now
    try:
        unit = Unit.objects.select_for_update().get(unit_number=unit_number)
    except Unit.DoesNotExist:
        raise NotFound("Unit not found") from None
    if not (actor.is_officer and actor.unit_id == unit.pk):
        raise Forbidden("Only officers of this unit may report its position.")
    location = UnitLocation.objects.create(
        unit=unit, latitude=latitude, longitude=longitude, accuracy_m=accuracy_m,
        recorded_at=recorded_at, reported_by=actor.db_user,
    )
    if unit.last_seen_at is None or recorded_at >= unit.last_seen_at:
        unit.last_latitude, unit.last_longitude = latitude, longitude
        unit.last_accuracy_m, unit.last_seen_at = accuracy_m, recorded_at
        unit.save(update_fields=["last_latitude", "last_longitude", "last_accuracy_m", "last_seen_at"])
    current = (
        OfficerAssignment.objects.filter(unit=unit, sos_request__status__in=SOS.OPEN_STATUSES)
        .order_by("-assigned_at").values_list("sos_request_id", flat=True).first()
    )
    payload = {
        "kind": "unit",
        "unit_number": unit.unit_number,
        "sos_id": current,
        "latitude": latitude,
        "longitude": longitude,
        "accuracy_m": accuracy_m,
        "timestamp": recorded_at.isoformat(),
    }
    publish(event="unit_location_update", rooms=[rooms.unit_room(unit.unit_number)], payload=payload)
    publish(event="location_tracking_update", rooms=[rooms.LOCATION_TRACKING_CHANNEL], payload=payload)
    return location
