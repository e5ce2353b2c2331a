"""State changes for accounts: creating staff accounts and units."""

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

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


def token_issue(*, user: User) -> str:
    """A token for one sign-in."""
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def token_revoke(*, user: User, token) -> None:
    Token.objects.filter(user=user).delete()
