"""The NaariKavach web dashboard, built from its own repository, against the live API and realtime server.

Their code is never in this repository: `bench/build_naarikavach_web.py` builds it outside (only its base
URLs and a socket token changed, see docs/compatibility.md). Without that build this module is skipped;
with it, a dispatcher signs in on their site, sees the SOS list, a new SOS arrive live, assigns a unit,
subscribes to the SOS's room, sees the next point move the row, and resolves it, and the page never throws.

Their site is served from an origin of its own (a small server on 127.0.0.2, replacing the placeholders of
the build with the live servers' URLs), so every API call and the socket are cross-origin, as when they
host it elsewhere.
"""

import mimetypes
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from naarikavach.testing import PASSWORD
from realtime_server.testing import RealtimeServer
from sos.models import SOS
from sos.tests.conftest import raise_sos

from .conftest import WAIT_MS

DIST = Path(os.environ.get("NAARIKAVACH_WEB_DIST", "/tmp/naarikavach-web/dist"))
API_PLACEHOLDER = "http://naarikavach-api.invalid"
SOCKET_PLACEHOLDER = "http://naarikavach-realtime.invalid"

pytestmark = [
    pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not (DIST / "index.html").exists(), reason=(
        f"the NaariKavach web dashboard is not built at {DIST}: fetch github:basilisk-in/NaariKavach and run "
        "bench/build_naarikavach_web.py (their code is never part of this repository)")),
]


class TheirSite(ThreadingHTTPServer):
    """Their built site on a loopback address of its own (127.0.0.2), so that it is another origin than our
    servers' (and not one of our ALLOWED_HOSTS), yet, like them, on the loopback: Chromium lets a page call
    the loopback only from a secure context or from the loopback itself."""

    urls: dict[bytes, bytes] = {}

    def __init__(self):
        super().__init__(("127.0.0.2", 0), TheirFiles)
        self.origin = f"http://127.0.0.2:{self.server_port}"


class TheirFiles(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0].lstrip("/")
        file = DIST / path
        if not path or not file.is_file() or not file.resolve().is_relative_to(DIST.resolve()):
            file = DIST / "index.html"  # their router's paths (/dashboard) are the single page
        body = file.read_bytes()
        if file.suffix in (".js", ".html"):
            for placeholder, url in self.server.urls.items():
                body = body.replace(placeholder, url)
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(file.name)[0] or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def their_site():
    site = TheirSite()
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield site
    site.shutdown()
    site.server_close()


@pytest.fixture(scope="module")
def realtime_server(their_site, django_db_setup, django_db_blocker):
    """The realtime server admitting their site's origin, as CORS_ALLOWED_ORIGINS does in a deployment."""
    server = RealtimeServer(extra_env={"CORS_ALLOWED_ORIGINS": their_site.origin}).start()
    yield server
    server.stop()


def row(page, name: str):
    return page.locator("tbody tr", has_text=name).first


def test_their_dashboard_signs_in_lists_shows_live_assigns_subscribes_and_resolves(
    browser, their_site, live_server, realtime, dispatcher, settings
):
    settings.CORS_ALLOWED_ORIGINS = [their_site.origin]
    their_site.urls = {API_PLACEHOLDER.encode(): live_server.url.encode(),
                       SOCKET_PLACEHOLDER.encode(): realtime.url.encode()}
    site = their_site.origin
    open_sos = raise_sos(name="Asha", latitude=22.5726, longitude=88.3639)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Their console, printed if the test fails: what their own code logged about each call.
    page.on("console", lambda message: print(f"console.{message.type}: {message.text}"[:500]))
    page.on("requestfailed", lambda request: print(f"request failed: {request.method} {request.url}"))
    # Off our servers and their site, nothing answers here (Google Maps, fonts): refused at once.
    ours = (site, live_server.url, realtime.url, realtime.url.replace("http", "ws"))
    page.route(lambda url: not url.startswith(ours), lambda route: route.abort())
    try:
        # Their landing page, their login modal, their redirect to /dashboard.
        page.goto(f"{site}/")
        page.get_by_role("button", name="Sign In").first.click()
        page.fill("input[placeholder='Enter your username']", dispatcher.username)
        page.fill("input[placeholder='Enter your password']", PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(f"{site}/dashboard")

        # The list: their table from GET /naarikavach/api/sos/.
        row(page, "Asha").wait_for()
        assert "Unresolved" in row(page, "Asha").inner_text()

        # A new SOS raised by a citizen's app arrives live (new_sos on sos_channel).
        raised = httpx.post(f"{live_server.url}/api/create-sos/", json={
            "name": "Bela", "sos_type": 0, "initial_latitude": 22.5801, "initial_longitude": 88.3702}).json()
        row(page, "Bela").wait_for()

        # Assign: their form, a free-text unit as their dispatchers type it.
        row(page, "Bela").click()
        page.fill("input[placeholder='Officer Name']", "Inspector Rao")
        page.fill("input[placeholder='Unit Number (e.g., UNIT001)']", "UNIT001")
        page.get_by_role("button", name="Assign Officer").click()
        page.get_by_text("Officer assigned successfully").wait_for()
        bela = SOS.objects.get(pk=raised["sos_id"])
        assert [a.unit.unit_number for a in bela.assignments.all()] == ["UNIT001"]

        # Subscribe to the SOS room: the join-time trail must not be taken for a point (it would blank the
        # page when the row re-renders); the next live point moves the row's coordinates.
        page.get_by_role("button", name="Subscribe to Room").click()
        page.get_by_role("button", name="Subscribed ✓").first.wait_for()
        moved = httpx.post(f"{live_server.url}/api/update-location/",
                           json={"sos_request": raised["sos_id"], "latitude": 22.5911, "longitude": 88.3811},
                           headers={"X-SOS-Token": raised["access_token"]})
        assert moved.status_code == 201, moved.text
        page.get_by_text("22.5911, 88.3811").wait_for()

        # Resolve.
        page.get_by_role("button", name="Mark as Resolved").click()
        page.wait_for_function("() => [...document.querySelectorAll('tbody tr')].some("
                               "tr => tr.innerText.includes('Bela') && tr.innerText.includes('Resolved') "
                               "&& !tr.innerText.includes('Unresolved'))")
        bela.refresh_from_db()
        assert bela.status == SOS.Status.RESOLVED
        assert row(page, "Asha").is_visible()  # the page is still there: nothing crashed it
        assert open_sos.sos.pk != bela.pk
        assert errors == []
    finally:
        context.close()
