"""Anonymous endpoints are throttled at rates a deployment sets; throttled calls change nothing."""

import pytest

from sos.models import SOS

pytestmark = pytest.mark.django_db

VALID_SOS = {"name": "Asha", "sos_type": 0, "initial_latitude": 12.9716, "initial_longitude": 77.5946}


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_raising_sos_beyond_the_configured_rate_is_429(anon, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "sos_create": "2/min"}
    codes = [anon.post("/api/create-sos/", VALID_SOS).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert SOS.objects.count() == 2
    refused = anon.post("/api/create-sos/", VALID_SOS)
    assert refused.json()["code"] == "throttled"
    assert "Retry-After" in refused


def test_a_different_client_address_is_not_throttled_by_someone_else(anon, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "sos_create": "1/min"}
    assert anon.post("/api/create-sos/", VALID_SOS, REMOTE_ADDR="10.0.0.1").status_code == 201
    assert anon.post("/api/create-sos/", VALID_SOS, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert anon.post("/api/create-sos/", VALID_SOS, REMOTE_ADDR="10.0.0.2").status_code == 201


def test_guessing_passwords_is_throttled(anon, settings, officer_a):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "auth": "3/min"}
    codes = [anon.post("/auth/token/login/", {"username": "officer_a", "password": f"guess-{i}"}).status_code
             for i in range(4)]
    assert codes == [400, 400, 400, 429]


def test_mass_registration_is_throttled(anon, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "register": "1/min"}
    first = anon.post("/auth/users/", {"username": "one", "password": "a-long-unusual-passphrase"})
    second = anon.post("/auth/users/", {"username": "two", "password": "a-long-unusual-passphrase"})
    assert (first.status_code, second.status_code) == (201, 429)
    from accounts.models import User

    assert not User.objects.filter(username="two").exists()
