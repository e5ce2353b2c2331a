"""State changes for accounts: creating staff accounts and units, and every change of a unit's status."""

import secrets

from django.db import transaction
from django.utils import timezone

from accounts.models import Unit, UnitStatusChange, User
from common.errors import Conflict, Forbidden, InvalidInput
from realtime import rooms
from realtime.events import publish


def unit_get_or_create(*, unit_number: str, name: str = "") -> Unit:
    unit, _ = Unit.objects.get_or_create(unit_number=unit_number, defaults={"name": name or f"Unit {unit_number}"})
    return unit


@transaction.atomic
def staff_create(
    *, username: str, role: str, unit_number: str | None = None, password: str | None = None, email: str = ""
) -> tuple[User, str]:
    """Create an officer, dispatcher or admin; returns the user and the password (generated if not given)."""
    if role not in {User.Role.OFFICER, User.Role.DISPATCHER, User.Role.ADMIN}:
        raise InvalidInput(f"Role must be officer, dispatcher or admin, not {role!r}.")
    if role == User.Role.OFFICER and not unit_number:
        raise InvalidInput("An officer needs a unit.", fields={"unit": ["This field is required."]})
    if User.objects.filter(username=username).exists():
        raise Conflict(f"User {username!r} already exists.")
    password = password or secrets.token_urlsafe(12)
    unit = unit_get_or_create(unit_number=unit_number) if unit_number else None
    user = User.objects.create_user(
        username=username,
        email=email,
        password=password,
        role=role,
        unit=unit,
        is_staff=role == User.Role.ADMIN,
        is_superuser=role == User.Role.ADMIN,
    )
    return user, password


@transaction.atomic
def unit_status_change(*, unit: Unit, status: str, actor, reason: str = "", override: bool = False) -> Unit:
    """The one writer of `Unit.status`: checks the lifecycle, records the change and publishes it.

    `unit` must be locked by the caller (select_for_update). Officers of the unit follow the lifecycle;
    `override=True` (a dispatcher or admin) may set any status. Setting the current status changes nothing.
    """
    if status not in Unit.Status.values:
        raise InvalidInput("Invalid unit status.", fields={"status": [f"Use one of {', '.join(Unit.Status.values)}."]})
    if status == unit.status:
        return unit
    if override and not (actor.user is not None and actor.user.role in {User.Role.DISPATCHER, User.Role.ADMIN}):
        raise Forbidden("Only dispatchers may override a unit's status.")
    if not override and not unit.may_become(status):
        raise Conflict(f"A unit that is {unit.status} cannot become {status}; a dispatcher may override.",
                       code="invalid_unit_transition")
    from_status, now = unit.status, timezone.now()
    unit.status = status
    unit.save(update_fields=["status"])
    UnitStatusChange.objects.create(unit=unit, from_status=from_status, to_status=status, actor=actor.db_user,
                                    actor_label=actor.label, reason=reason, overridden=override, created_at=now)
    publish(event="unit_status_changed", rooms=[rooms.unit_room(unit.unit_number), rooms.SOS_CHANNEL,
                                                rooms.INCIDENTS_CHANNEL],
            payload={"unit_number": unit.unit_number, "status": status, "from_status": from_status,
                     "reason": reason, "by": actor.label, "overridden": override, "timestamp": now.isoformat()})
    return unit
