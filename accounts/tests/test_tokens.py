"""API tokens: only their hash is stored, one per sign-in, each with a lifetime (staff shorter)."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts import services
from accounts.models import AuthToken
from naarikavach.testing import PASSWORD, api_token

pytestmark = pytest.mark.django_db


def _login(anon, user):
    response = anon.post("/auth/token/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["auth_token"]


def _me(client_for, key):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/auth/users/me/")


def test_only_a_hash_of_the_token_is_stored(anon, citizen):
    key = _login(anon, citizen)
    (token,) = AuthToken.objects.filter(user=citizen)
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_authtoken")
        assert not any(key in str(value) for row in cursor.fetchall() for value in row)


def test_each_sign_in_has_its_own_token_and_signing_out_ends_only_that_one(anon, client_for, citizen):
    phone, laptop = _login(anon, citizen), _login(anon, citizen)
    assert phone != laptop
    signed_out = client_for(None)
    signed_out.credentials(HTTP_AUTHORIZATION=f"Token {phone}")
    assert signed_out.post("/auth/token/logout/").status_code == 204
    assert _me(client_for, phone).status_code == 401
    assert _me(client_for, laptop).status_code == 200


def test_staff_tokens_live_shorter_than_citizens(anon, citizen, dispatcher, settings):
    settings.TOKEN_TTL_HOURS, settings.STAFF_TOKEN_TTL_HOURS = 720, 12
    _login(anon, citizen)
    _login(anon, dispatcher)
    now = timezone.now()
    citizen_left = AuthToken.objects.get(user=citizen).expires_at - now
    staff_left = AuthToken.objects.get(user=dispatcher).expires_at - now
    assert timedelta(hours=719) < citizen_left <= timedelta(hours=720)
    assert timedelta(hours=11) < staff_left <= timedelta(hours=12)


def test_an_expired_token_is_refused(client_for, dispatcher):
    key = api_token(dispatcher)
    AuthToken.objects.filter(user=dispatcher).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _me(client_for, key)
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid or expired token."


def test_a_deactivated_user_is_signed_out_everywhere(client_for, officer_a):
    key = api_token(officer_a)
    services.user_deactivate(user=officer_a)
    assert _me(client_for, key).status_code == 401
    assert not AuthToken.objects.filter(user=officer_a).exists()


def test_a_token_with_a_nul_character_is_refused_not_a_crash(client_for):
    assert _me(client_for, "abc\x00def").status_code == 401
