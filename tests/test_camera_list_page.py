"""The camera list page as Django serves it: responders only, with a token of its own."""

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.selectors import token_user
from naarikavach.testing import PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    assert client.post("/dashboard/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def page_config(response, element_id):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert match, f"no {element_id} in the page"
    return json.loads(match.group(1))


def test_visitors_are_sent_to_sign_in_and_citizens_are_refused(citizen):
    assert Client().get("/dashboard/cameras/")["Location"].startswith("/dashboard/login/")
    client = Client()
    client.force_login(citizen)
    assert client.get("/dashboard/cameras/").status_code == 403


def test_opening_the_camera_list_keeps_the_dashboards_token_working(dispatcher):
    client = signed_in(dispatcher)
    dashboard_token = page_config(client.get("/dashboard/"), "dashboard-config")["token"]
    response = client.get("/dashboard/cameras/")
    assert response.status_code == 200 and b'id="camera-table"' in response.content
    cameras_token = page_config(response, "cameras-config")["token"]

    def user_of(key):
        token = token_user(key=key, now=timezone.now())
        return token and token.user

    assert user_of(dashboard_token) == dispatcher and user_of(cameras_token) == dispatcher
    client.post("/dashboard/logout/")
    assert user_of(dashboard_token) is None and user_of(cameras_token) is None


def test_the_dashboard_links_to_the_camera_list(dispatcher):
    assert b'href="/dashboard/cameras/"' in signed_in(dispatcher).get("/dashboard/").content
