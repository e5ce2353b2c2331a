"""Djoser as the NaariKavach clients call it: the app's sign-up sends re_password, the site reads
`non_field_errors` from a failed login (naarikavach_website/src/services/authService.js)."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("base", ["", "/naarikavach"])
def test_a_mismatched_re_password_is_refused_and_creates_nobody(base):
    # services.tsx register(): { username, email, password, re_password }
    response = APIClient().post(f"{base}/auth/users/", {"username": "meera", "email": "m@example.org",
                                                        "password": "a-Long-pass-123", "re_password": "different-456"},
                                format="json")
    assert response.status_code == 400
    assert "re_password" in response.json()["fields"]
    assert not User.objects.filter(username="meera").exists()


def test_a_matching_re_password_signs_up_and_one_left_out_is_not_needed():
    client = APIClient()
    same = client.post("/auth/users/", {"username": "meera", "password": "a-Long-pass-123",
                                        "re_password": "a-Long-pass-123"}, format="json")
    without = client.post("/auth/users/", {"username": "leela", "password": "a-Long-pass-123"}, format="json")
    assert (same.status_code, without.status_code) == (201, 201)
    assert User.objects.get(username="meera").check_password("a-Long-pass-123")


@pytest.mark.parametrize("base", ["", "/naarikavach"])
def test_a_failed_login_carries_non_field_errors_at_the_top_level(citizen, base):
    response = APIClient().post(f"{base}/auth/token/login/", {"username": citizen.username, "password": "wrong"},
                                format="json")
    body = response.json()
    assert response.status_code == 400
    assert body["non_field_errors"] == body["fields"]["non_field_errors"]
    assert body["non_field_errors"][0].startswith("Unable to log in")
