"""State changes for accounts: creating staff accounts and units, and every change of a unit's status."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import AuthToken, Unit, UnitStatusChange, User
from common.actors import is_responder
from common.errors import Conflict, Forbidden, InvalidInput
from common.tokens import hash_secret, new_secret
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
def citizen_register(
    *, username: str, password: str, email: str = "", first_name: str = "", last_name: str = "", phone: str = ""
) -> User:
    """Self-registration: always a plain citizen, with a password Django's validators accept."""
    candidate = User(username=username, email=email, first_name=first_name, last_name=last_name, phone=phone)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as error:
        raise InvalidInput("Invalid input: password: " + error.messages[0], fields={"password": error.messages}) from None
    if User.objects.filter(username=username).exists():
        raise InvalidInput("A user with that username already exists.",
                           fields={"username": ["A user with that username already exists."]})
    return User.objects.create_user(
        username=username, password=password, email=email, first_name=first_name, last_name=last_name,
        phone=phone, role=User.Role.CITIZEN,
    )


@transaction.atomic
def user_update_profile(*, user: User, **fields) -> User:
    """Change one's own contact details; the role, unit and username are not the owner's to change."""
    allowed = {"email", "first_name", "last_name", "phone"}
    for name, value in fields.items():
        if name in allowed:
            setattr(user, name, value)
    changed = [name for name in fields if name in allowed]
    if changed:
        user.save(update_fields=changed)
    return user


def token_lifetime(user: User) -> timedelta:
    """Staff (responders, admins) sign in for a shift; citizens for longer. Both from settings."""
    staff = is_responder(user) or user.is_staff or user.is_superuser
    hours = settings.STAFF_TOKEN_TTL_HOURS if staff else settings.TOKEN_TTL_HOURS
    return timedelta(hours=hours)


@transaction.atomic
def token_issue(*, user: User) -> str:
    """A new token for one sign-in; returns its key, of which only the hash is kept."""
    key = new_secret()
    now = timezone.now()
    AuthToken.objects.create(digest=hash_secret(key), user=user, expires_at=now + token_lifetime(user))
    # Expired tokens of this user are of no use to anyone: drop them as new ones are made.
    AuthToken.objects.filter(user=user, expires_at__lte=now).delete()
    return key


@transaction.atomic
def token_revoke(*, token: AuthToken) -> None:
    """Sign out this one token; the realtime server disconnects its sockets within seconds."""
    AuthToken.objects.filter(pk=token.pk).delete()


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """An account that may no longer act: every token is dropped, every socket closes within seconds."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    AuthToken.objects.filter(user=user).delete()
    return user


def unit_status_change(*, unit: Unit, status: str, actor, reason: str = "", override: bool = False) -> Unit:
    """The one writer of `Unit.status`: checks the lifecycle, records the change and publishes it.

    `unit` must be locked by the caller (select_for_update). Officers of the unit follow the lifecycle;
    `override=True` (a dispatcher or admin) may set any status. Setting the current status changes nothing.
    """
    if status not in Unit.Status.values:
        raise InvalidInput("Invalid unit status.", fields={"status": [f"Use one of {', '.join(Unit.Status.values)}."]})
    if status == unit.status:
        return unit
    if override and not actor.is_supervisor:
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
