"""Sound and notifications are asked for at sign-in, so the first alert is never silent: the sign-in click asks for
notifications (a prompt needs a gesture) and the dashboard then starts with its sound on, without another click.
Only where the browser still refuses (no gesture on the way in) does the "Start the shift" dialog ask."""

import pytest

from sos.models import SOS
from sos.tests.conftest import raise_sos
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The browser's rules, modelled (so that they do not depend on the machine's audio stack or prompt handling):
# - an audio context starts suspended; resume() runs it only after a user gesture on this origin, in this page or in
#   the page it was navigated from (Chromium keeps that over a same-origin navigation), and otherwise never settles;
# - Notification.requestPermission() records whether it was called within a gesture, and grants.
STRICT_BROWSER = """
(() => {
  const GESTURE = "__gesture", ASKED = "__notificationAsked", PERMISSION = "__notificationPermission";
  for (const type of ["pointerdown", "keydown"]) {
    addEventListener(type, (event) => { if (event.isTrusted) sessionStorage.setItem(GESTURE, "1"); }, true);
  }
  const allowed = () => sessionStorage.getItem(GESTURE) === "1";
  class FakeParam { setValueAtTime() {} exponentialRampToValueAtTime() {} }
  class FakeNode { connect() {} }
  class FakeOscillator extends FakeNode {
    constructor() { super(); this.frequency = { value: 0 }; }
    start() {}
    stop() {}
  }
  class FakeGain extends FakeNode { constructor() { super(); this.gain = new FakeParam(); } }
  class FakeAudioContext {
    constructor() { this.state = "suspended"; this.currentTime = 0; this.destination = new FakeNode(); }
    resume() {
      if (!allowed()) return new Promise(() => {});
      this.state = "running";
      return Promise.resolve();
    }
    createGain() { return new FakeGain(); }
    createOscillator() { return new FakeOscillator(); }
  }
  window.AudioContext = FakeAudioContext;
  window.webkitAudioContext = FakeAudioContext;
  class FakeNotification {
    static get permission() { return sessionStorage.getItem(PERMISSION) || "default"; }
    static requestPermission() {
      sessionStorage.setItem(ASKED, String(navigator.userActivation.isActive));
      sessionStorage.setItem(PERMISSION, "granted");
      return Promise.resolve("granted");
    }
    close() {}
  }
  window.Notification = FakeNotification;
})();
"""


def strict_page(pages):
    page = pages("/dashboard/login/", viewport={"width": 1366, "height": 768})
    page.context.add_init_script(STRICT_BROWSER)
    return page


def test_signing_in_asks_for_notifications_and_the_dashboard_starts_with_sound_on(pages, dispatcher):
    page = strict_page(pages)
    sign_in(page, dispatcher)
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#connection[data-state=online]")

    # Asked on the sign-in page, within the click (a prompt outside a gesture is refused by browsers).
    assert page.evaluate("() => sessionStorage.getItem('__notificationAsked')") == "true"
    page.wait_for_selector("body[data-sound=on]")
    assert not page.is_visible("#start-shift") and not page.is_visible("#sound")

    # The first alert sounds with no click on the dashboard.
    raised = raise_sos(name="First", latitude=22.5726, longitude=88.3639)
    page.wait_for_selector(f"#queue li[data-key='sos:{raised.sos.pk}']")
    page.wait_for_function("() => Number(document.body.dataset.beeps || 0) >= 1")
    assert SOS.objects.filter(pk=raised.sos.pk, status="active").exists()


def test_without_a_gesture_on_the_way_in_the_start_the_shift_dialog_asks_for_one(pages, dispatcher):
    page = strict_page(pages)
    sign_in(page, dispatcher)
    page.wait_for_selector("body[data-sound=on]")
    # The same session opened again with no gesture this time (a reload): the browser keeps the sound off.
    page.evaluate("() => sessionStorage.removeItem('__gesture')")
    page.reload()
    page.wait_for_selector("#start-shift[open]")
    assert page.get_attribute("body", "data-sound") == "blocked"

    page.click("#start-shift-button")
    page.wait_for_selector("body[data-sound=on]")
    assert not page.is_visible("#start-shift")
