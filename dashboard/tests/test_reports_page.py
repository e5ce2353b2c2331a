"""The response-time report page as Django serves it: who may open it, the token it hands its script, its chart
library served from npm."""

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuthToken
from accounts.selectors import token_user

pytestmark = pytest.mark.django_db


def _config(response) -> dict:
    match = re.search(r'<script id="reports-config" type="application/json">(.*?)</script>', response.content.decode(),
                      re.S)
    assert match, "no reports-config in the page"
    return json.loads(match.group(1))


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _token_alive(key: str) -> bool:
    return token_user(key=key, now=timezone.now()) is not None


def test_a_dispatcher_gets_the_page_with_a_token_for_the_report_api(dispatcher):
    response = _signed_in(dispatcher).get("/dashboard/reports/")

    assert response.status_code == 200
    config = _config(response)
    assert token_user(key=config["token"], now=timezone.now()).user == dispatcher
    assert config["api"] == "/api/reports/response-times/"
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert b"vendor/uplot/uPlot.esm.js" in response.content


def test_officers_and_citizens_are_refused_and_visitors_sent_to_sign_in(officer_a, citizen):
    tokens_before = AuthToken.objects.count()

    officer = _signed_in(officer_a).get("/dashboard/reports/")
    citizen_answer = _signed_in(citizen).get("/dashboard/reports/")
    visitor = Client().get("/dashboard/reports/")

    assert officer.status_code == 403 and b"for dispatch supervisors" in officer.content
    assert citizen_answer.status_code == 403 and b"for police only" in citizen_answer.content
    assert visitor.status_code == 302 and visitor["Location"].startswith("/dashboard/login/")
    assert AuthToken.objects.count() == tokens_before  # nobody refused was handed a token


def test_only_supervisors_see_the_link_to_the_report_in_the_dashboard_header(dispatcher, officer_a):
    assert b'id="reports-link"' in _signed_in(dispatcher).get("/dashboard/").content
    assert b'id="reports-link"' not in _signed_in(officer_a).get("/dashboard/").content


def test_the_console_cameras_and_report_pages_share_one_navigation_marking_where_you_are(dispatcher, officer_a):
    import re

    def nav(user, path) -> list[tuple[str, bool]]:
        html = _signed_in(user).get(path).content.decode()
        (block,) = re.findall(r'<nav class="topnav".*?</nav>', html, flags=re.S)
        return [(href, "aria-current" in attrs) for href, attrs in re.findall(r'<a[^>]*href="([^"]+)"([^>]*)>', block)]

    pages = ["/dashboard/", "/dashboard/cameras/", "/dashboard/reports/"]
    for path in pages:
        assert nav(dispatcher, path) == [(page, page == path) for page in pages], path
    # An officer has no report to go to, from any page.
    assert nav(officer_a, "/dashboard/cameras/") == [("/dashboard/", False), ("/dashboard/cameras/", True)]


def test_the_report_and_the_dashboard_keep_their_own_tokens_and_signing_out_revokes_both(dispatcher):
    client = _signed_in(dispatcher)
    dashboard_token = _config_token(client.get("/dashboard/"), "dashboard-config")
    report_token = _config(client.get("/dashboard/reports/"))["token"]

    # Opening the report in another tab leaves the dashboard's live connection its credential.
    assert _token_alive(dashboard_token) and _token_alive(report_token)
    client.post("/dashboard/logout/")
    assert not _token_alive(dashboard_token) and not _token_alive(report_token)


def _config_token(response, element_id: str) -> str:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', response.content.decode(),
                      re.S)
    return json.loads(match.group(1))["token"]


@pytest.mark.parametrize("path", [
    "/static/dashboard/reports.js", "/static/vendor/uplot/uPlot.esm.js", "/static/vendor/uplot/uPlot.min.css",
])
def test_the_report_script_and_its_chart_library_are_served_without_collectstatic(path, settings):
    settings.DEBUG = False
    response = Client().get(path)
    assert response.status_code == 200
    if path.endswith(".js"):
        assert response["Content-Type"].startswith("text/javascript")
