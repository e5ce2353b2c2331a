"""Personas shared by every test: citizens, officers of two units, a dispatcher and an admin."""

import os
import time

import pytest
from django.core.cache import caches
from django.db import connection

from accounts.models import User
from common import ratelimit
from naarikavach import testing


def pytest_configure(config):
    from django.conf import settings

    # Every event a test publishes is checked against realtime/event_schema.py, here and in the
    # servers the tests start.
    os.environ["EVENT_SCHEMA_STRICT"] = "1"
    settings.EVENT_SCHEMA_STRICT = True

    # PBKDF2 at production strength costs ~0.3 s per user; tests make hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _generous_throttles(settings):
    """Throttling is tested on its own; elsewhere it would only make tests depend on each other."""
    settings.THROTTLE_RATES = {scope: "100000/min" for scope in settings.THROTTLE_RATES}
    # Flood control of SOS likewise (sos/tests/test_flood.py tests it with its own limits).
    settings.SOS_FLOOD_SENDER_THRESHOLD = settings.SOS_FLOOD_ADDRESS_THRESHOLD = 100000
    settings.SOS_FLOOD_NEW_SENDERS_PER_ADDRESS = settings.SOS_FLOOD_CEILING = 100000
    settings.SOS_POINTS_PER_MINUTE = 100000
    settings.ALLOWED_HOSTS = ["*"]


PINNED_RATE_CLOCK = (time.time() // 86400) * 86400 + 1

_DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
                      "live_server"}


@pytest.fixture(autouse=True)
def _fresh_rate_counters(request, monkeypatch):
    """Every test that touches the database starts with no rate counts. The counters (common/ratelimit.py)
    live in the default cache, a table no test transaction or flush covers (or Redis), so without this an
    earlier test's requests from 127.0.0.1 would count against a later test's limits.

    The counters' clock is pinned one second into a UTC day, the start of every window that divides a day,
    so a test's requests all fall in one window whatever the time: a CI run once saw a "2/min" limit let a
    third request through because the minute turned between the second and the third."""
    monkeypatch.setattr(ratelimit, "clock", lambda: PINNED_RATE_CLOCK)
    if not (_DATABASE_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker("django_db")):
        yield
        return
    request.getfixturevalue("django_db_setup")
    with request.getfixturevalue("django_db_blocker").unblock():
        caches["default"].clear()
    yield


@pytest.fixture(autouse=True)
def _skip_postgres_only(request):
    if request.node.get_closest_marker("postgres_only") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")


@pytest.fixture
def unit_a(db):
    return testing.make_unit("UNIT-A")


@pytest.fixture
def unit_b(db):
    return testing.make_unit("UNIT-B")


@pytest.fixture
def citizen(db) -> User:
    return testing.make_citizen("asha")


@pytest.fixture
def other_citizen(db) -> User:
    return testing.make_citizen("bela")


@pytest.fixture
def officer_a(db, unit_a) -> User:
    return testing.make_staff("officer_a", User.Role.OFFICER, unit_a.unit_number)


@pytest.fixture
def officer_b(db, unit_b) -> User:
    return testing.make_staff("officer_b", User.Role.OFFICER, unit_b.unit_number)


@pytest.fixture
def dispatcher(db) -> User:
    return testing.make_staff("dispatch", User.Role.DISPATCHER)


@pytest.fixture
def admin_user(db) -> User:
    return testing.make_staff("root", User.Role.ADMIN)


@pytest.fixture
def anon():
    return testing.client_for(None)


@pytest.fixture
def client_for():
    return testing.client_for
