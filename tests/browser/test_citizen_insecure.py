"""Opened over plain http from another machine, the page says exactly that, and the SOS still goes out."""


import pytest
from playwright.sync_api import sync_playwright

from sos.models import SOS
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def lan_browser():
    """A browser for which `phone.lan` is this machine: a LAN name, so http there is not a secure context."""
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP phone.lan 127.0.0.1"])
        yield browser
        browser.close()


def test_over_plain_http_on_a_lan_the_page_blames_the_connection_not_permissions(lan_browser, live_server, realtime, settings):
    settings.REALTIME_PUBLIC_URL = realtime.url
    port = live_server.url.rsplit(":", 1)[1]
    context = lan_browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                      geolocation={"latitude": 22.57, "longitude": 88.36}, permissions=["geolocation"])
    context.set_default_timeout(8000)
    try:
        page = context.new_page()
        page.goto(f"http://phone.lan:{port}/sos/")
        page.wait_for_selector("body[data-ready=true]")
        assert page.evaluate("window.isSecureContext") is False
        assert page.is_visible("#insecure")
        assert "not opened over a secure (https) connection" in page.inner_text("#insecure")
        page.click("#sos-button")
        page.wait_for_selector("main[data-state=active]")
        assert SOS.objects.get().location_pending
        assert "Allow location access" not in page.inner_text("main")
    finally:
        context.close()
