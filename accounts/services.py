"""State changes for accounts: creating staff accounts and units."""

import secrets

from django.db import transaction

from accounts.models import Unit, User
from common.errors import Conflict, InvalidInput


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
