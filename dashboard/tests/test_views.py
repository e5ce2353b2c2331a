"""The pages as Django serves them: who may sign in, what the dashboard hands its script, static files."""

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.selectors import token_user
from naarikavach.testing import PASSWORD

pytestmark = pytest.mark.django_db


def _config(response, element_id):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert match, f"no {element_id} in the page"
    return json.loads(match.group(1))


def _sign_in(client, user):
    return client.post("/dashboard/login/", {"username": user.username, "password": PASSWORD})


def test_the_dashboard_sends_visitors_to_the_sign_in_page():
    response = Client().get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/dashboard/login/")


def test_a_dispatcher_signs_in_and_gets_the_dashboard(dispatcher):
    client = Client()
    assert _sign_in(client, dispatcher)["Location"] == "/dashboard/"
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert b'id="map"' in response.content


def test_an_officer_may_open_the_dashboard(officer_a):
    client = Client()
    _sign_in(client, officer_a)
    assert client.get("/dashboard/").status_code == 200


def test_a_citizen_is_refused_at_sign_in_and_gets_no_session(citizen):
    client = Client()
    response = _sign_in(client, citizen)
    assert response.status_code == 403
    assert b"for police only" in response.content
    assert "_auth_user_id" not in client.session
    assert client.get("/dashboard/").status_code == 302


def test_a_citizen_signed_in_elsewhere_is_refused_by_the_dashboard(citizen):
    client = Client()
    client.force_login(citizen)
    response = client.get("/dashboard/")
    assert response.status_code == 403
    assert b"for police only" in response.content


def test_a_wrong_password_shows_the_form_again(dispatcher):
    response = Client().post("/dashboard/login/", {"username": dispatcher.username, "password": "nope"})
    assert response.status_code == 200
    assert b"do not match" in response.content


def test_sign_in_attempts_are_throttled_like_the_apis(dispatcher, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "auth": "2/min"}
    client = Client()
    for _ in range(2):
        assert client.post("/dashboard/login/", {"username": "dispatch", "password": "guess"}).status_code == 200
    response = _sign_in(client, dispatcher)
    assert response.status_code == 429
    assert b"Too many sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_the_dashboard_hands_its_script_the_users_api_token_and_settings(dispatcher, settings):
    settings.MAP_TILE_URL = ""
    settings.REALTIME_PUBLIC_URL = "http://rt.example:9001"
    client = Client()
    client.force_login(dispatcher)
    response = client.get("/dashboard/")
    config = _config(response, "dashboard-config")
    assert token_user(key=config["token"], now=timezone.now()).user == dispatcher
    assert config["user"] == {"username": "dispatch", "role": "dispatcher", "unit_number": None}
    assert config["realtime"]["url"] == "http://rt.example:9001"
    assert config["map"]["tileUrl"] == ""
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_signing_out_ends_the_session(dispatcher):
    client = Client()
    client.force_login(dispatcher)
    client.post("/dashboard/logout/")
    assert client.get("/dashboard/").status_code == 302


def test_the_citizen_page_needs_no_account_and_carries_no_api_token():
    response = Client().get("/sos/")
    assert response.status_code == 200
    config = _config(response, "sos-config")
    assert "token" not in config
    assert b'id="sos-button"' in response.content


@pytest.mark.parametrize("path", [
    "/static/dashboard/dashboard.js",
    "/static/dashboard/login.js",
    "/static/vendor/leaflet/leaflet-src.esm.js",
    "/static/vendor/leaflet/leaflet.css",
    "/static/vendor/socket.io/socket.io.esm.min.js",
])
def test_the_pages_scripts_and_libraries_are_served_without_collectstatic(path, settings):
    """WhiteNoise serves from the finders, node_modules included, with DEBUG off (run `npm ci` first)."""
    settings.DEBUG = False
    response = Client().get(path)
    assert response.status_code == 200
    if path.endswith(".js"):
        # Browsers refuse ES modules served with any other type.
        assert response["Content-Type"].startswith("text/javascript")
