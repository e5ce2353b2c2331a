"""Rate limits that hold: every password check and anonymous registration shares one budget per client,
whatever the route's alias, whatever X-Forwarded-For says, and whatever process counts it."""

import os
import subprocess
import sys
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from accounts.models import User
from common import ratelimit
from naarikavach.testing import PASSWORD

pytestmark = pytest.mark.django_db

VALID_SOS = {"name": "Asha", "sos_type": 0, "initial_latitude": 12.9716, "initial_longitude": 77.5946}


def _rates(settings, **rates):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, **rates}


def test_password_guesses_share_one_budget_on_every_sign_in_route(anon, settings, dispatcher):
    _rates(settings, auth="4/min")
    pages = Client()
    guesses = [
        anon.post("/auth/token/login/", {"username": "dispatch", "password": "guess-1"}).status_code,
        anon.post("/auth/token/login", {"username": "dispatch", "password": "guess-2"}).status_code,
        pages.post("/admin/login/", {"username": "dispatch", "password": "guess-3"}).status_code,
        pages.post("/dashboard/login/", {"username": "dispatch", "password": "guess-4"}).status_code,
    ]
    assert guesses == [400, 400, 200, 200]  # Wrong passwords: the forms redisplay, the API says 400.
    # The budget is spent: even the right password gets nowhere, on any route.
    right = {"username": "dispatch", "password": PASSWORD}
    assert anon.post("/auth/token/login", right).status_code == 429
    assert anon.post("/auth/token/login/", right).status_code == 429
    admin = pages.post("/admin/login/", right)
    assert admin.status_code == 429 and admin.json()["code"] == "throttled"
    assert pages.post("/dashboard/login/", right).status_code == 429
    assert "_auth_user_id" not in pages.session


def test_registration_is_throttled_under_every_alias(anon, settings):
    _rates(settings, register="2/min")
    body = {"password": "a-long-unusual-passphrase"}
    codes = [anon.post(path, {**body, "username": f"user{i}"}).status_code
             for i, path in enumerate(["/auth/users/", "/auth/users", "/auth/users.json", "/auth/users/"])]
    assert codes == [201, 201, 404, 429]
    assert sorted(User.objects.values_list("username", flat=True)) == ["user0", "user1"]


@pytest.mark.parametrize("path", [
    "/auth/users/reset_password/", "/auth/users/reset_password_confirm/", "/auth/users/set_password/",
    "/auth/users/activation/", "/auth/users/resend_activation/", "/auth/users/set_username/",
    "/auth/users/reset_username/", "/auth/token/create/", "/auth/jwt/create/",
])
def test_account_flows_the_product_does_not_use_are_gone(anon, citizen, path):
    citizen.email = "asha@example.org"
    citizen.save()
    response = anon.post(path, {"email": "asha@example.org", "username": "asha", "password": PASSWORD})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def register(client, number, **headers):
    # Registration, the one anonymous create still refused by rate (an SOS never is: sos/flood.py).
    return client.post("/auth/users/", {"username": f"user{number}", "password": "a-long-enough-passphrase-42"},
                       **headers).status_code


def test_a_new_x_forwarded_for_on_each_request_buys_nothing(anon, settings):
    _rates(settings, register="2/min")
    codes = [register(anon, i, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}") for i in range(5)]
    assert codes == [201, 201, 429, 429, 429]


def test_behind_one_trusted_proxy_the_client_is_the_address_the_proxy_appended(anon, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    _rates(settings, register="1/min")

    assert register(anon, 1, HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.7") == 201
    assert register(anon, 2, HTTP_X_FORWARDED_FOR="2.2.2.2, 198.51.100.7") == 429  # The client's prefix changes nothing.
    assert register(anon, 3, HTTP_X_FORWARDED_FOR="198.51.100.8") == 201


@pytest.mark.parametrize(("proxies", "forwarded", "expected"), [
    (0, "1.2.3.4", "10.0.0.1"),
    (1, "1.2.3.4, 5.6.7.8", "5.6.7.8"),
    (2, "1.2.3.4, 5.6.7.8, 9.9.9.9", "5.6.7.8"),
    (2, "5.6.7.8", "5.6.7.8"),
    (1, "", "10.0.0.1"),
    (1, "not-an-address", "10.0.0.1"),
])
def test_client_address_trusts_only_the_configured_proxies(rf, settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert ratelimit.client_address(request) == expected


def test_migrate_creates_the_shared_counter_table():
    assert "naarikavach_cache" in connection.introspection.table_names()


@pytest.fixture(params=["database", "redis"])
def shared_cache(request, settings):
    if request.param == "redis":
        settings.CACHES = {"default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "KEY_PREFIX": f"test-{os.getpid()}",
        }}
        try:
            cache.clear()
        except Exception as error:  # pragma: no cover - depends on the machine
            pytest.skip(f"Redis is not reachable: {error}")
    yield request.param
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_counts_are_atomic_when_many_workers_hit_at_once(shared_cache):
    def hammer():
        for _ in range(10):
            ratelimit.count("burst", 600)
        connection.close()

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ratelimit.count("burst", 600).count == 61


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_another_process_sees_the_same_counter(shared_cache, settings):
    ratelimit.count("shared", 600)
    ratelimit.count("shared", 600)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "naarikavach.settings"}
    if connection.vendor == "sqlite":
        env["SQLITE_PATH"] = connection.settings_dict["NAME"]
    else:
        db = connection.settings_dict
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    if shared_cache == "redis":
        env["REDIS_URL"] = settings.CACHES["default"]["LOCATION"]
        script = f"from django.core.cache import cache; cache.key_prefix = {settings.CACHES['default']['KEY_PREFIX']!r}; "
    else:
        script = ""
    # The child counts on the same pinned clock as this test (the root conftest pins it here).
    script += (f"import common.ratelimit as rl; rl.clock = lambda: {ratelimit.clock()!r}; "
               "print(rl.count('shared', 600).count)")
    output = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], env=env, capture_output=True,
                            text=True, timeout=60, check=True).stdout
    assert output.strip().splitlines()[-1] == "3"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("turn", ["first", "second"])
def test_every_test_starts_with_no_rate_counts(turn):
    """The root conftest clears the shared counters: committed counts of one test never reach the next."""
    assert ratelimit.count("conftest-probe", 3600).count == 1
