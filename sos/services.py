"""Every state change of an SOS: create, locate, acknowledge, assign, resolve, cancel; and unit positions.

Each service validates before it writes, runs in one transaction, records the audit trail and
publishes its realtime events through `realtime.events` (`publish`, `publish_many`) in that same transaction.
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Unit, UnitLocation, User
from accounts.services import unit_status_change
from common import ratelimit
from common.actors import Actor
from common.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from common.geo import position_errors, validate_position
from common.tokens import derived_secret, hash_secret, new_secret
from incidents.services import alert_deliveries_queue
from realtime import rooms
from realtime.events import Event, publish, publish_many
from sos import hooks
from sos.models import SOS, LocationUpdate, OfficerAssignment, SOSAuditEntry
from sos.permissions import (
    is_sos_owner,
    require_may_act,
    require_owner,
    require_owner_or_responder,
    require_responder,
)
from sos.selectors import sos_by_idempotency_key


def _audit(sos: SOS, *, action: str, actor: Actor, from_status: str = "", details: dict | None = None) -> None:
    SOSAuditEntry.record(sos, action=action, actor=actor, from_status=from_status, details=details)


def _require_point_budget(sos_id: int) -> None:
    """At most SOS_POINTS_PER_MINUTE points per SOS: a trail cannot be flooded, and a phone
    flushing a long offline queue is told when to send the rest (429 with Retry-After)."""
    limit = settings.SOS_POINTS_PER_MINUTE
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
        raise Conflict(gettext("SOS is %(status)s; it can no longer change.") % {"status": sos.status}, code="sos_closed")
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


def _queue_alerts(sos: SOS, *, event: str, raised: bool = False) -> None:
    """Email and webhook alerts: a raised SOS goes to the configured recipients, a status change only to
    the targets that subscribe to it."""
    alert_deliveries_queue(event=event, sos=sos, payload=sos.alert_payload(), targets=None if raised else [])


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


# A point may be dated a little before the SOS (the phone's fix a moment before the press, or clocks a
# little apart); anything older belongs to another moment and is refused.
RECORDED_BEFORE_SOS_TOLERANCE = timedelta(minutes=2)
RECORDED_IN_FUTURE_TOLERANCE = timedelta(minutes=5)

# The coarse hints a phone may send with an SOS while it has no fix, and how long each may be.
DEVICE_HINT_FIELDS = {"timezone": 64, "language": 35, "network": 16, "platform": 64, "battery_percent": None}


def _device_hints_errors(hints: dict) -> list[str]:
    errors = [f"Unknown hint {key!r}; use {', '.join(DEVICE_HINT_FIELDS)}." for key in hints if key not in DEVICE_HINT_FIELDS]
    for key, max_length in DEVICE_HINT_FIELDS.items():
        value = hints.get(key)
        if value is None:
            continue
        if max_length is None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
                errors.append(f"{key} must be a number from 0 to 100.")
        elif not isinstance(value, str) or len(value) > max_length:
            errors.append(f"{key} must be text of at most {max_length} characters.")
    return errors


def _validate_last_known(last_known: dict | None, now: datetime) -> None:
    if not last_known:
        return
    fields = {f"last_known_{k}": v for k, v in position_errors(
        last_known.get("latitude"), last_known.get("longitude"), last_known.get("accuracy_m")).items()}
    recorded_at = last_known.get("recorded_at")
    if recorded_at is not None and recorded_at > now + RECORDED_IN_FUTURE_TOLERANCE:
        fields["last_known_at"] = ["Cannot be in the future."]
    if fields:
        raise InvalidInput("Invalid last known position.", fields=fields)


@transaction.atomic
def sos_create(
    *,
    name: str,
    sos_type: int,
    latitude: float | None = None,
    longitude: float | None = None,
    accuracy_m: float | None = None,
    phone: str = "",
    owner: User | None = None,
    last_known: dict | None = None,
    device_hints: dict | None = None,
    suspected_flood: bool = False,
    flood_source: str = "",
    cancel_pin: str = "",
    duress_pin: str = "",
    dropped_details: list[str] | None = None,
    raised_because: str = "raised an SOS",
    _access_token: str | None = None,
    _idempotency_key_hash: str | None = None,
) -> tuple[SOS, str]:
    """Raise an SOS. Returns it with its access token, which is never stored or shown again.

    Without a position it is still raised, `location_pending`, with whatever helps find her meanwhile:
    `last_known` ({latitude, longitude, accuracy_m, recorded_at}: the phone's cached fix) and `device_hints`.
    `dropped_details` names the invalid details the caller left out of it; the audit entry keeps them.
    The apps above hear of it in this transaction (`sos.hooks`): her trusted contacts are alerted, told that she
    `raised_because`, and the cameras covering her position are linked.
    """
    validate_position(latitude, longitude, accuracy_m, required=False)
    if sos_type not in SOS.Type.values:
        raise InvalidInput("Invalid SOS type.", fields={"sos_type": ["Must be 0 (emergency) or 1 (alert)."]})
    now = timezone.now()
    _validate_last_known(last_known, now)
    hint_errors = _device_hints_errors(device_hints or {})
    if hint_errors:
        raise InvalidInput("Invalid device hints.", fields={"device_hints": hint_errors})
    located = latitude is not None
    last_known = last_known or {}
    pin_hashes = _pin_hashes(pin=cancel_pin, duress_pin=duress_pin) if cancel_pin or duress_pin else ("", "")
    access_token = _access_token or new_secret()
    sos = SOS.objects.create(
        idempotency_key_hash=_idempotency_key_hash,
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
        last_located_at=now if located else None,
        location_pending=not located,
        last_known_latitude=last_known.get("latitude"),
        last_known_longitude=last_known.get("longitude"),
        last_known_accuracy_m=last_known.get("accuracy_m"),
        last_known_at=last_known.get("recorded_at"),
        device_hints=device_hints or {},
        suspected_flood=suspected_flood,
        flood_source=flood_source,
        cancel_pin_hash=pin_hashes[0],
        duress_pin_hash=pin_hashes[1],
        created_at=now,
    )
    if located:
        LocationUpdate.objects.create(
            sos_request=sos, latitude=latitude, longitude=longitude, accuracy_m=accuracy_m, recorded_at=now,
            reported_by=sos.owner,
        )
    actor = Actor(user=sos.owner) if sos.owner else Actor(sos_token_hash=sos.access_token_hash)
    details = {"location_pending": True} if not located else {}
    if suspected_flood:
        details.update(suspected_flood=True, flood_source=flood_source)
    if dropped_details:
        # Invalid optional details the client sent: the SOS went through without them (sos/apis.py).
        details["details_dropped"] = list(dropped_details)
    _audit(sos, action="created", actor=actor, details=details)
    publish(event="new_sos", rooms=[rooms.SOS_CHANNEL], payload=_new_sos_payload(sos))
    if not suspected_flood:
        # A suspected flood is shown, grouped, on the dashboards, but does not mail or page anyone one by one.
        _queue_alerts(sos, event="sos_created", raised=True)
    if located:
        hooks.sos_positioned.fire(sos=sos, latitude=latitude, longitude=longitude, accuracy_m=accuracy_m, now=now)
    hooks.sos_raised.fire(sos=sos, raised_because=raised_because)
    return sos, access_token


IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,100}$")
_IDEMPOTENT_TOKEN_PURPOSE = "sos-idempotency"


def validate_idempotency_key(key: str) -> None:
    if not IDEMPOTENCY_KEY_PATTERN.match(key):
        raise InvalidInput("Invalid idempotency key.", fields={"idempotency_key": [
            "Use 16 to 100 letters, digits, '-' or '_' (a random UUID made on the phone)."]})


def sos_create_once(*, idempotency_key: str, **create) -> tuple[SOS, str, bool]:
    """`sos_create` at most once per key: a retry, a double press or a queued resend answers the first SOS.

    Returns (sos, access token, replayed). The token is derived from the key (which only the phone
    knows) so that a repeated answer carries the same token without the token ever being stored.
    """
    validate_idempotency_key(idempotency_key)
    token = derived_secret(idempotency_key, purpose=_IDEMPOTENT_TOKEN_PURPOSE)
    existing = sos_by_idempotency_key(idempotency_key)
    if existing is not None:
        return existing, token, True
    try:
        # A savepoint of its own: when a concurrent request with the same key commits first, the unique
        # key makes this insert fail, and the SOS it created is the answer.
        with transaction.atomic():
            sos, token = sos_create(**create, _access_token=token, _idempotency_key_hash=hash_secret(idempotency_key))
    except IntegrityError:
        existing = sos_by_idempotency_key(idempotency_key)
        if existing is None:
            raise
        return existing, token, True
    return sos, token, False


def _new_sos_payload(sos: SOS) -> dict:
    return {
        "sos_id": sos.pk,
        "room_id": str(sos.room_id),
        "name": sos.name,
        "sos_type": sos.sos_type,
        "status": sos.status,
        "latitude": sos.last_latitude,
        "longitude": sos.last_longitude,
        "accuracy_m": sos.accuracy_m,
        "location_pending": sos.location_pending,
        "suspected_flood": sos.suspected_flood,
        "flood_source": sos.flood_source,
        "phone": sos.phone,
        "last_known": _last_known_payload(sos),
        "created_at": sos.created_at.isoformat(),
    }


def _last_known_payload(sos: SOS) -> dict | None:
    if sos.last_known_latitude is None:
        return None
    return {"latitude": sos.last_known_latitude, "longitude": sos.last_known_longitude,
            "accuracy_m": sos.last_known_accuracy_m, "age_s": sos.last_known_age_s()}


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
    sos = _lock_sos(sos_id, fields=("room_id", "status", "owner", "access_token_hash", "last_located_at",
                                    "created_at", "location_pending"))
    require_owner_or_responder(actor, sos)
    if actor.is_responder and not is_sos_owner(actor, sos):
        require_may_act(actor, sos)
    _require_point_budget(sos.pk)
    if recorded_at > now + RECORDED_IN_FUTURE_TOLERANCE:
        raise InvalidInput("Invalid time.", fields={"recorded_at": ["Cannot be in the future."]})
    if recorded_at < sos.created_at - RECORDED_BEFORE_SOS_TOLERANCE:
        raise InvalidInput("Invalid time.", fields={"recorded_at": [
            f"Cannot be before the SOS was raised ({sos.created_at.isoformat()})."]})
    _require_open(sos)
    point = LocationUpdate.objects.create(
        sos_request=sos, latitude=latitude, longitude=longitude, accuracy_m=accuracy_m,
        recorded_at=recorded_at, received_at=now, reported_by=actor.db_user,
    )
    # Points may arrive out of order (a phone flushing a queue); the newest one is the position, with its accuracy.
    was_pending = sos.location_pending
    if was_pending or recorded_at >= sos.last_located_at:
        sos.last_latitude, sos.last_longitude, sos.last_located_at = latitude, longitude, recorded_at
        sos.accuracy_m = accuracy_m
        fields = ["last_latitude", "last_longitude", "last_located_at", "accuracy_m", "updated_at"]
        if was_pending:
            sos.initial_latitude, sos.initial_longitude, sos.location_pending = latitude, longitude, False
            fields += ["initial_latitude", "initial_longitude", "location_pending"]
        sos.save(update_fields=fields)
        hooks.sos_positioned.fire(sos=sos, latitude=latitude, longitude=longitude, accuracy_m=accuracy_m, now=now)
    if was_pending:
        _audit(sos, action="located", actor=actor, details={"latitude": latitude, "longitude": longitude})
        _publish_sos_updated(sos, action="located", actor=actor, extra={
            "location_pending": False, "latitude": latitude, "longitude": longitude, "accuracy_m": accuracy_m})

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
    _queue_alerts(sos, event="sos_acknowledged")
    return sos


@transaction.atomic
def sos_assign(*, sos_id: int, officer_name: str, unit_number: str, actor: Actor) -> OfficerAssignment:
    """Dispatch a unit to an open SOS; it is acknowledged and dispatched in one step."""
    sos = _lock_open_sos(sos_id, actor=actor)
    if not officer_name.strip():
        raise InvalidInput("Officer name is required.", fields={"officer_name": ["This field may not be blank."]})
    # An officer naming a unit that does not exist is told so (400); naming another unit is refused (403).
    unit = _unit_for_assignment(unit_number.strip(), actor=actor)
    if actor.is_officer and unit.pk != actor.unit_id:
        raise Forbidden("Officers may assign only their own unit; a dispatcher assigns others.", code="other_unit")
    if unit.status == Unit.Status.OFF_DUTY:
        raise Conflict(f"Unit {unit.unit_number} is off duty.", code="unit_off_duty")
    if OfficerAssignment.objects.filter(sos_request=sos, unit=unit).exists():
        raise Conflict(f"Unit {unit.unit_number} is already assigned to this SOS.", code="unit_already_assigned")
    from_status = sos.status
    assignment = OfficerAssignment.objects.create(
        sos_request=sos, officer_name=officer_name.strip(), unit=unit, assigned_by=actor.db_user
    )
    # Handing an SOS already on scene to another unit keeps it on scene.
    if sos.status != SOS.Status.ON_SCENE:
        sos.status = SOS.Status.DISPATCHED
    sos.save(update_fields=["status", "updated_at"])
    if unit.status == Unit.Status.AVAILABLE:  # a busy unit keeps what it is doing
        unit_status_change(unit=unit, status=Unit.Status.DISPATCHED, actor=actor, reason="assigned")
    details = {"officer_name": assignment.officer_name, "unit_number": unit.unit_number}
    _audit(sos, action="assigned", actor=actor, from_status=from_status, details=details)
    _publish_sos_updated(sos, action="assigned", actor=actor, extra=details)
    _queue_alerts(sos, event="sos_assigned")
    return assignment


def _unit_for_assignment(unit_number: str, *, actor: Actor) -> Unit:
    """The unit named, locked; a dispatcher naming one we do not know creates it, flagged ad hoc."""
    try:
        return Unit.objects.select_for_update().get(unit_number=unit_number)
    except Unit.DoesNotExist:
        pass
    if actor.is_officer:
        raise InvalidInput("Unknown unit.", fields={"unit_number": [f"No unit {unit_number!r}."]})
    # Dispatchers of the NaariKavach dashboard type free-text unit numbers (UNIT001, Unit-123): a genuine
    # dispatch is never refused for it. The unit is flagged for an admin to complete or merge.
    unit = Unit(unit_number=unit_number, name="Ad hoc (created by an assignment)", is_adhoc=True)
    try:
        unit.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise InvalidInput("Invalid unit number.",
                           fields={"unit_number": exc.message_dict.get("unit_number", [])}) from None
    unit.save()
    return Unit.objects.select_for_update().get(pk=unit.pk)


def _free_unit_if_idle(unit: Unit, *, actor: Actor, reason: str) -> None:
    """A unit with no other open SOS is available again (a busy status it set itself is kept otherwise)."""
    still_busy = unit.assignments.filter(sos_request__status__in=SOS.OPEN_STATUSES).exists()
    if not still_busy and unit.status in Unit.BUSY_STATUSES:
        unit_status_change(unit=unit, status=Unit.Status.AVAILABLE, actor=actor, reason=reason)


@transaction.atomic
def sos_unassign(*, sos_id: int, assignment_id: int, actor: Actor, note: str = "") -> SOS:
    """Take a unit off an open SOS (a mistaken or changed dispatch). The assignment row goes; the audit trail
    keeps it. With no unit left, a dispatched SOS is back to acknowledged, and the unit is free again."""
    sos = _lock_open_sos(sos_id, actor=actor)
    require_responder(actor)
    assignment = OfficerAssignment.objects.filter(pk=assignment_id, sos_request=sos).select_related("unit").first()
    if assignment is None:
        raise NotFound("No such assignment on this SOS.")
    unit = Unit.objects.select_for_update().get(pk=assignment.unit_id)
    if actor.is_officer and unit.pk != actor.unit_id:
        raise Forbidden("Officers may unassign only their own unit; a dispatcher unassigns others.", code="other_unit")
    from_status = sos.status
    details = {"officer_name": assignment.officer_name, "unit_number": unit.unit_number}
    if note:
        details["note"] = note
    assignment.delete()
    if sos.status == SOS.Status.DISPATCHED and not OfficerAssignment.objects.filter(sos_request=sos).exists():
        sos.status = SOS.Status.ACKNOWLEDGED
    sos.save(update_fields=["status", "updated_at"])
    _free_unit_if_idle(unit, actor=actor, reason="unassigned")
    _audit(sos, action="unassigned", actor=actor, from_status=from_status, details=details)
    # The unit's room hears it too: it was told of the assignment, so it must hear that it is off it.
    payload = {"sos_id": sos.pk, "room_id": str(sos.room_id), "status": sos.status, "action": "unassigned",
               "by": actor.role_label, "timestamp": timezone.now().isoformat(), **details}
    units = {rooms.unit_room(number) for number in [unit.unit_number, *_assigned_unit_numbers(sos)]}
    publish(event="sos_updated", rooms=[rooms.SOS_CHANNEL, rooms.sos_room(sos.room_id), *sorted(units)], payload=payload)
    return sos


def _close(sos: SOS, *, status: str, action: str, actor: Actor, note: str = "") -> SOS:
    from_status = sos.status
    sos.status = status
    sos.closed_at = timezone.now()
    sos.save(update_fields=["status", "closed_at", "updated_at"])
    # Units dispatched only to this SOS are free again.
    unit_ids = OfficerAssignment.objects.filter(sos_request=sos).values("unit_id")
    for unit in Unit.objects.select_for_update().filter(pk__in=unit_ids).order_by("pk"):
        _free_unit_if_idle(unit, actor=actor, reason=f"sos_{action}")
    details = {"note": note} if note else {}
    _audit(sos, action=action, actor=actor, from_status=from_status, details=details)
    _publish_sos_updated(sos, action=action, actor=actor, extra=details)
    if status == SOS.Status.RESOLVED:
        # The NaariKavach police app drops a resolved SOS from its map on `sos_resolved`.
        units = [rooms.unit_room(number) for number in _assigned_unit_numbers(sos)]
        publish(event="sos_resolved", rooms=[rooms.SOS_CHANNEL, rooms.sos_room(sos.room_id), *units],
                payload={"sos_id": sos.pk, "room_id": str(sos.room_id)})
    _queue_alerts(sos, event=f"sos_{action}")
    return sos


@transaction.atomic
def sos_on_scene(*, sos_id: int, actor: Actor, unit_number: str = "") -> SOS:
    """A unit has arrived: the SOS moves from dispatched to on scene (responders)."""
    sos = _lock_open_sos(sos_id, actor=actor)
    if sos.status != SOS.Status.DISPATCHED:
        raise Conflict(f"Only a dispatched SOS can have a unit on scene; this one is {sos.status}.",
                       code="not_dispatched")
    sos.status = SOS.Status.ON_SCENE
    sos.save(update_fields=["status", "updated_at"])
    details = {"unit_number": unit_number} if unit_number else {}
    _audit(sos, action="on_scene", actor=actor, from_status=SOS.Status.DISPATCHED, details=details)
    _publish_sos_updated(sos, action="on_scene", actor=actor, extra=details)
    _queue_alerts(sos, event="sos_on_scene")
    return sos


@transaction.atomic
def sos_resolve(*, sos_id: int, actor: Actor, note: str = "") -> SOS:
    sos = _lock_open_sos(sos_id, actor=actor)
    return _close(sos, status=SOS.Status.RESOLVED, action="resolved", actor=actor, note=note)


@transaction.atomic
def sos_cancel_on_behalf(*, sos_id: int, actor: Actor, note: str) -> SOS:
    """A responder cancels an SOS for the citizen (she phoned to say she is safe): a note saying how they know is
    required. Never for an SOS cancelled under duress: that one stays open until resolved."""
    sos = _lock_open_sos(sos_id, actor=actor)
    require_responder(actor)
    if not note.strip():
        raise InvalidInput("Say how you know she is safe.", fields={"note": ["This field may not be blank."]})
    if sos.under_duress:
        raise Conflict("This SOS was cancelled under duress: it cannot be cancelled, only resolved.", code="under_duress")
    return _close(sos, status=SOS.Status.CANCELLED, action="cancelled_on_behalf", actor=actor, note=note.strip())


PIN_PATTERN = re.compile(r"^[0-9]{4}$")
MAX_PIN_FAILURES = 5


def _pin_errors(pin: str, duress_pin: str) -> dict[str, list[str]]:
    fields = {}
    if not PIN_PATTERN.match(pin or ""):
        fields["pin"] = [gettext("Use 4 digits.")]
    if duress_pin and not PIN_PATTERN.match(duress_pin):
        fields["duress_pin"] = [gettext("Use 4 digits.")]
    elif duress_pin and duress_pin == pin:
        fields["duress_pin"] = [gettext("Must differ from the cancel PIN.")]
    return fields


def _pin_hashes(*, pin: str, duress_pin: str) -> tuple[str, str]:
    """The hashes of a valid cancel PIN and optional duress PIN, or InvalidInput."""
    fields = _pin_errors(pin, duress_pin)
    if fields:
        raise InvalidInput(gettext("Invalid PIN."), fields=fields)
    return make_password(pin), make_password(duress_pin) if duress_pin else ""


@transaction.atomic
def sos_pin_set(*, sos_id: int, actor: Actor, pin: str, duress_pin: str = "", current_pin: str = "") -> SOS:
    """The owner sets the cancel PIN (and optionally a duress PIN) while the SOS is open.

    Changing a PIN already set needs the current one: whoever holds the phone must not simply replace it.
    """
    sos = _lock_sos(sos_id)
    require_owner(actor, sos)
    _require_open(sos)
    if sos.has_cancel_pin and not check_password(current_pin or "", sos.cancel_pin_hash):
        raise InvalidInput(gettext("The current PIN is needed to change it."), fields={"current_pin": [gettext("Wrong PIN.")]},
                           code="wrong_pin")
    sos.cancel_pin_hash, sos.duress_pin_hash = _pin_hashes(pin=pin, duress_pin=duress_pin)
    sos.save(update_fields=["cancel_pin_hash", "duress_pin_hash", "updated_at"])
    _audit(sos, action="pin_set", actor=actor, details={"duress_pin": bool(duress_pin)})
    return sos


def sos_cancel(*, sos_id: int, actor: Actor, reason: str = "", pin: str | None = None) -> SOS:
    """The owner withdraws a false alarm; with a PIN set, only with it.

    With the duress PIN the answer is the same SOS, but it stays open: `sos.under_duress` is set, the
    cancel is audited as `cancelled_under_duress` and announced to responders only (never to the SOS's
    own room, which the phone, and whoever is forcing her, may be watching). Callers answering the
    phone must show such an SOS as cancelled (`SOSOutput` does for its owner).
    A wrong PIN counts as a failure (kept even though the call is refused); after MAX_PIN_FAILURES the
    SOS can no longer be cancelled from the phone.
    """
    sos, wrong_pin = _sos_cancel(sos_id=sos_id, actor=actor, reason=reason, pin=pin)
    if wrong_pin:
        raise InvalidInput(gettext("Wrong PIN."), fields={"pin": [gettext("Wrong PIN.")]}, code="wrong_pin")
    return sos


@transaction.atomic
def _sos_cancel(*, sos_id: int, actor: Actor, reason: str, pin: str | None) -> tuple[SOS, bool]:
    sos = _lock_sos(sos_id)
    require_owner(actor, sos)
    if sos.under_duress:
        # Already "cancelled" as far as the phone knows: the same answer again, and the SOS stays open.
        _audit(sos, action="cancel_after_duress", actor=actor)
        return sos, False
    _require_open(sos)
    if not sos.has_cancel_pin:
        return _close(sos, status=SOS.Status.CANCELLED, action="cancelled", actor=actor, note=reason), False
    if sos.pin_failures >= MAX_PIN_FAILURES:
        raise Conflict(gettext("Too many wrong PINs: this SOS can no longer be cancelled from the phone. "
                               "Call %(number)s to tell the police you are safe.") % {"number": settings.SOS_EMERGENCY_NUMBER},
                       code="pin_locked")
    if sos.duress_pin_hash and check_password(pin or "", sos.duress_pin_hash):
        return _mark_duress(sos, actor=actor), False
    if not check_password(pin or "", sos.cancel_pin_hash):
        sos.pin_failures += 1
        sos.save(update_fields=["pin_failures", "updated_at"])
        _audit(sos, action="wrong_pin", actor=actor, details={"failures": sos.pin_failures})
        return sos, True
    return _close(sos, status=SOS.Status.CANCELLED, action="cancelled", actor=actor, note=reason), False


def _mark_duress(sos: SOS, *, actor: Actor) -> SOS:
    sos.duress_at = timezone.now()
    sos.save(update_fields=["duress_at", "updated_at"])
    _audit(sos, action="cancelled_under_duress", actor=actor, from_status=sos.status)
    payload = {
        "sos_id": sos.pk,
        "room_id": str(sos.room_id),
        "status": sos.status,
        "action": "cancelled_under_duress",
        "duress": True,
        "duress_at": sos.duress_at.isoformat(),
        "by": actor.label,
        "timestamp": sos.duress_at.isoformat(),
    }
    units = [rooms.unit_room(number) for number in _assigned_unit_numbers(sos)]
    publish(event="sos_updated", rooms=[rooms.SOS_CHANNEL, *units], payload=payload)
    return sos


@transaction.atomic
def unit_location_update(
    *, unit_number: str, latitude: float, longitude: float, actor: Actor,
    accuracy_m: float | None = None, recorded_at: datetime | None = None,
) -> UnitLocation:
    """Record a unit's position (an officer of that unit, or a dispatcher) and stream it to its room and the
    tracking channels."""
    validate_position(latitude, longitude, accuracy_m)
    now = timezone.now()
    recorded_at = recorded_at or now
    try:
        unit = Unit.objects.select_for_update().get(unit_number=unit_number)
    except Unit.DoesNotExist:
        raise NotFound("Unit not found") from None
    if not (actor.is_responder and (not actor.is_officer or actor.unit_id == unit.pk)):
        raise Forbidden("Only officers of this unit, or a dispatcher, may report its position.")
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
        # Not `sos_id`: this is the unit's position, and clients (the NaariKavach police app) read a
        # `unit_location_update` with an `sos_id` as that SOS's position.
        "assigned_sos_id": current,
        "latitude": latitude,
        "longitude": longitude,
        "accuracy_m": accuracy_m,
        "timestamp": recorded_at.isoformat(),
    }
    publish_many([
        Event(event="unit_location_update", rooms=[rooms.unit_room(unit.unit_number)], payload=payload),
        Event(event="location_tracking_update", rooms=[rooms.LOCATION_TRACKING_CHANNEL], payload=payload),
        # The NaariKavach dashboard's "Track All Units" (join_officer_update) listens for unit_loc.
        Event(event="unit_loc", rooms=[rooms.OFFICER_TRACKING_CHANNEL], payload={
            "unit_id": unit.unit_number, "latitude": latitude, "longitude": longitude,
            "timestamp": recorded_at.isoformat(),
        }),
    ])
    return location
