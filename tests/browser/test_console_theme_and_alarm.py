"""Night shifts: the console follows the system's dark theme unless the toggle chose one. The alarm: it repeats
while anything waits for an acknowledgement, a mute silences it for 60 s, and it stops once all is acknowledged."""

import pytest
from django.utils import timezone

from common.actors import Actor
from sos import services
from tests.browser.conftest import sign_in
from tests.browser.console_support import open_console, sos_raised_minutes_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BACKGROUND = "() => getComputedStyle(document.querySelector('.sidebar')).backgroundColor"


def test_dark_theme_follows_the_system_and_the_toggle_overrides_it(pages, dispatcher):
    page = open_console(pages, dispatcher, color_scheme="dark")
    assert page.evaluate(BACKGROUND) == "rgb(27, 30, 35)"

    page.click("#theme")  # system → dark (explicit)
    assert page.get_attribute("html", "data-theme") == "dark"
    page.click("#theme")  # → light
    assert page.evaluate(BACKGROUND) == "rgb(255, 255, 255)"
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.get_attribute("html", "data-theme") == "light"  # the choice is kept


def test_light_system_gets_the_light_theme(pages, dispatcher):
    page = open_console(pages, dispatcher, color_scheme="light")
    assert page.evaluate(BACKGROUND) == "rgb(255, 255, 255)"


def beeps(page) -> int:
    return int(page.get_attribute("body", "data-beeps") or 0)


def test_the_alarm_repeats_while_unacknowledged_mutes_for_60_seconds_and_stops_when_all_is_seen(pages, dispatcher, settings):
    settings.DASHBOARD_ALARM_REPEAT_SECONDS = 10
    waiting = sos_raised_minutes_ago(1, name="Waiting")
    page = open_console(pages, dispatcher, clock_at=timezone.now(), fake_audio=True)
    # The fake context is running: no "start the shift" prompt, and the beeps are real calls into it.
    assert not page.is_visible("#start-shift")
    start = beeps(page)

    page.clock.run_for(30_000)
    assert beeps(page) - start == 3
    assert page.evaluate("() => window.__oscillators") == 3 * 3  # three tones a beep

    page.click("#mute")
    muted_at = beeps(page)
    page.clock.run_for(50_000)
    assert beeps(page) == muted_at
    page.clock.run_for(20_000)  # the minute is over
    assert beeps(page) > muted_at

    services.sos_acknowledge(sos_id=waiting.sos.pk, actor=Actor(user=dispatcher))
    page.wait_for_selector(f"#queue li[data-key='sos:{waiting.sos.pk}'][data-status=acknowledged]")
    seen = beeps(page)
    page.clock.run_for(60_000)
    assert beeps(page) == seen


# A Notification the page can use (granted), counting what it shows, and a tab the test can hide.
FAKE_NOTIFICATIONS = """
(() => {
  window.__shown = [];
  window.__hidden = false;
  class FakeNotification { constructor(title, options) { window.__shown.push([title, options.body]); } close() {} }
  FakeNotification.permission = "granted";
  FakeNotification.requestPermission = () => Promise.resolve("granted");
  window.Notification = FakeNotification;
  Object.defineProperty(Document.prototype, "hidden", { get: () => window.__hidden, configurable: true });
})();
"""


def test_a_new_alert_raises_a_notification_only_while_the_tab_is_hidden(pages, dispatcher):
    page = pages("/dashboard/login/", viewport={"width": 1366, "height": 768})
    page.context.add_init_script(FAKE_NOTIFICATIONS)
    sign_in(page, dispatcher)
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#connection[data-state=online]")

    seen = sos_raised_minutes_ago(0, name="Seen")
    page.wait_for_selector(f"#queue li[data-key='sos:{seen.sos.pk}']")
    assert page.evaluate("() => window.__shown.length") == 0  # looking at the page: the banner is enough

    page.evaluate("() => { window.__hidden = true; }")
    away = sos_raised_minutes_ago(0, name="Away")
    page.wait_for_function("() => window.__shown.length === 1")
    assert page.evaluate("() => window.__shown[0]") == ["NaariKavach: new alert", f"New SOS #{away.sos.pk} from Away"]
