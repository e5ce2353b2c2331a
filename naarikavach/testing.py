"""Test support shared by every app: the named personas and API clients signed in as them, and waiting on a condition."""

import time

from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import staff_create, token_issue, unit_get_or_create

PASSWORD = "correct-horse-battery-staple"


def make_citizen(username: str) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, role=User.Role.CITIZEN)


def make_staff(username: str, role: str, unit_number: str | None = None) -> User:
    user, _ = staff_create(username=username, role=role, unit_number=unit_number, password=PASSWORD)
    return user


def make_unit(unit_number: str):
    return unit_get_or_create(unit_number=unit_number)


def api_token(user: User) -> str:
    """A fresh API token for `user`, as signing in gives one (only its hash is stored)."""
    return token_issue(user=user)


def client_for(user: User | None = None, *, sos_token: str | None = None) -> APIClient:
    """An API client authenticated the way real clients are: with an API token, or an SOS token."""
    client = APIClient()
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Token {api_token(user)}"
    if sos_token is not None:
        headers["HTTP_X_SOS_TOKEN"] = sos_token
    client.credentials(**headers)
    return client


def wait_until(condition, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll `condition` until it is true (True) or `timeout` seconds have passed (False): for what another
    thread or process does, where there is nothing to be told by. Never a sleep before asserting a negative."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True
