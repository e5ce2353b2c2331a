"""Helpers for the console's browser tests: a scene of open alerts, a dashboard opened on a fixed clock, and a
fake audio context that counts the alarm's beeps."""

from datetime import timedelta

from django.utils import timezone

from sos.models import SOS
from sos.tests.conftest import raise_sos
from tests.browser.conftest import sign_in

KOLKATA = (22.5726, 88.3639)

# Replaces WebAudio with a context that is always running and counts the oscillators started: the alarm's beeps
# are counted by the page itself (body[data-beeps]); this makes them independent of the browser's audio stack.
FAKE_AUDIO = """
(() => {
  class FakeParam { setValueAtTime() {} exponentialRampToValueAtTime() {} }
  class FakeNode { connect() {} }
  class FakeOscillator extends FakeNode { constructor() { super(); this.frequency = { value: 0 }; }
    start() { window.__oscillators = (window.__oscillators || 0) + 1; } stop() {} }
  class FakeGain extends FakeNode { constructor() { super(); this.gain = new FakeParam(); } }
  class FakeAudioContext { constructor() { this.state = "running"; this.currentTime = 0; this.destination = new FakeNode(); }
    resume() { return Promise.resolve(); } createGain() { return new FakeGain(); } createOscillator() { return new FakeOscillator(); } }
  window.AudioContext = FakeAudioContext;
  window.webkitAudioContext = FakeAudioContext;
})();
"""


def sos_raised_minutes_ago(minutes: float, *, name: str, latitude=KOLKATA[0], longitude=KOLKATA[1]):
    raised = raise_sos(name=name, latitude=latitude, longitude=longitude)
    SOS.objects.filter(pk=raised.sos.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    raised.sos.refresh_from_db()
    return raised


def open_console(pages, user, *, clock_at=None, fake_audio=False, **context_options):
    """A signed-in console, ready and live; with `clock_at`, the page's clock starts there (Playwright's clock)."""
    context_options.setdefault("viewport", {"width": 1366, "height": 768})
    page = pages("/dashboard/login/", **context_options)
    if fake_audio:
        page.context.add_init_script(FAKE_AUDIO)
    if clock_at is not None:
        page.clock.install(time=clock_at)
    sign_in(page, user)
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#connection[data-state=online]")
    return page


def queue_keys(page) -> list[str]:
    return page.eval_on_selector_all("#queue > li[data-key]", "rows => rows.map((row) => row.dataset.key)")
