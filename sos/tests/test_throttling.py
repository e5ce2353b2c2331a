"""Sign-in and registration are throttled at rates a deployment sets; throttled calls change nothing.

Raising an SOS is not throttled per address: sos/tests/test_flood.py tests its flood control."""

import pytest

pytestmark = pytest.mark.django_db


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
