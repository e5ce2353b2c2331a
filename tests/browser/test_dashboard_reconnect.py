"""The realtime server restarts: the dashboard says it is offline, reconnects, and shows what happened meanwhile."""

import httpx
import pytest

from naarikavach.testing import api_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def raise_sos(base_url: str, name: str) -> int:
    body = {"name": name, "sos_type": 0, "initial_latitude": 22.57, "initial_longitude": 88.36}
    response = httpx.post(f"{base_url}/api/create-sos/", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["sos_id"]


def test_the_dashboard_resumes_after_a_realtime_restart_without_a_reload(
    dashboard_for, dispatcher, realtime, live_server
):
    dashboard = dashboard_for(dispatcher)
    dashboard.evaluate("window.notReloaded = true")
    before = raise_sos(live_server.url, "Before")
    dashboard.wait_for_selector(f"#queue li[data-id='{before}']", timeout=2000)

    realtime.kill()
    dashboard.wait_for_selector("#offline-banner", state="visible", timeout=3000)
    assert dashboard.get_attribute("#connection", "data-state") == "offline"

    # Meanwhile: one alert is acknowledged and a new one is raised.
    token = api_token(dispatcher)
    acknowledged = httpx.post(f"{live_server.url}/api/sos/{before}/acknowledge/",
                              headers={"Authorization": f"Token {token}"}, timeout=10)
    assert acknowledged.status_code == 200, acknowledged.text
    during = raise_sos(live_server.url, "During")

    realtime.start()
    dashboard.wait_for_selector("#connection[data-state=online]", timeout=10000)
    dashboard.wait_for_selector("#offline-banner", state="hidden")
    dashboard.wait_for_selector(f"#queue li[data-id='{during}']", timeout=3000)
    dashboard.wait_for_selector(f"#queue li[data-id='{before}'] .badge:has-text('acknowledged')", timeout=3000)
    assert "During" in dashboard.inner_text("#alert-text")
    assert dashboard.evaluate("window.notReloaded") is True
