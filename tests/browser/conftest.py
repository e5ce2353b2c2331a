"""Browser test support: Debian's headless Chromium through Playwright, against the live Django and realtime servers."""

import os
import shutil
import threading

import pytest
from django.core.signals import request_finished, request_started
from playwright.sync_api import sync_playwright

from naarikavach.testing import PASSWORD
from realtime_server.testing import realtime, realtime_server  # noqa: F401  (fixtures: one server process per module)

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
    # The dashboard's alarm is WebAudio; a test cannot click first to unlock sound as an officer would.
    "--autoplay-policy=no-user-gesture-required",
]
# Bounded waits everywhere: a broken page fails in seconds, not at the suite's timeout.
WAIT_MS = 8000


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module, stopped at its end.

    While Playwright's sync API is running, its event loop counts as running in this thread: Django
    would refuse the ORM calls that test setup makes, and pytest-asyncio could not run async tests.
    So the browser never outlives its module, and the ORM check is relaxed only meanwhile.
    """
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium` (or set CHROMIUM_PATH).")
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class RequestsInFlight:
    """Counts the live server's requests that have started and not finished (Django's request signals).

    Closing a browser does not stop a request the server is already handling. Were the test database
    flushed meanwhile, PostgreSQL's TRUNCATE and that request's transaction could each hold a lock the
    other needs: a deadlock, and the flush fails. So a test ends only once the server is idle.
    """

    def __init__(self):
        self.count = 0
        self.changed = threading.Condition()

    def started(self, **kwargs):
        with self.changed:
            self.count += 1

    def finished(self, **kwargs):
        with self.changed:
            self.count -= 1
            self.changed.notify_all()

    def wait_idle(self, timeout: float = 10) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count <= 0, timeout)


@pytest.fixture
def requests_in_flight():
    tracker = RequestsInFlight()
    request_started.connect(tracker.started, dispatch_uid="browser-tests-in-flight")
    request_finished.connect(tracker.finished, dispatch_uid="browser-tests-in-flight")
    yield tracker
    request_started.disconnect(dispatch_uid="browser-tests-in-flight")
    request_finished.disconnect(dispatch_uid="browser-tests-in-flight")


@pytest.fixture
def pages(browser, live_server, realtime, settings, requests_in_flight):
    """Open browser contexts (one per person) on the live server; all closed at the end of the test."""
    settings.REALTIME_PUBLIC_URL = realtime.url
    settings.MAP_TILE_URL = ""  # closed network: no tiles, and the page must work regardless
    contexts = []

    def open_page(path: str = "/", **context_options):
        context = browser.new_context(base_url=live_server.url, **context_options)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto(path)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert requests_in_flight.wait_idle(), f"{requests_in_flight.count} request(s) still running on the live server"


def sign_in(page, user):
    """Sign in through the dashboard's own form, as a person would."""
    page.goto("/dashboard/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


@pytest.fixture
def dashboard_for(pages):
    """A signed-in dashboard that has loaded and is connected live."""

    def open_dashboard(user, **context_options):
        page = pages("/dashboard/login/", viewport={"width": 1280, "height": 800}, **context_options)
        sign_in(page, user)
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("#connection[data-state=online]")
        return page

    return open_dashboard


@pytest.fixture
def citizen_page(pages):
    """The citizen SOS page on a phone-sized screen, location allowed, standing in Kolkata."""

    def open_citizen(latitude=22.5726, longitude=88.3639):
        return pages(
            "/sos/", viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True,
            geolocation={"latitude": latitude, "longitude": longitude, "accuracy": 12}, permissions=["geolocation"],
        )

    return open_citizen
