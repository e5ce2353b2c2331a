"""A citizen raises an SOS from the web page; a dispatcher sees it live and sends a unit; the citizen sees who comes."""


import pytest

from naarikavach.testing import wait_until
from sos.models import SOS, LocationUpdate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



def test_a_citizens_sos_reaches_the_dispatcher_live_and_the_assignment_reaches_the_citizen(
    dashboard_for, citizen_page, dispatcher, officer_a
):
    officer_a.first_name, officer_a.last_name = "Inspector", "Rao"
    officer_a.save(update_fields=["first_name", "last_name"])
    dashboard = dashboard_for(dispatcher)
    dashboard.evaluate("window.notReloaded = true")
    phone = citizen_page()

    phone.click(".about-me summary")
    phone.fill("#name", "Asha")
    phone.click("#sos-button")
    phone.wait_for_selector("main[data-state=counting]")
    phone.wait_for_selector("main[data-state=active]")
    sos_id = phone.evaluate("JSON.parse(localStorage.getItem('naarikavach.sos')).sos_id")

    # On the dispatcher's map and list within 2 seconds, with a visible and audible alarm, without a reload.
    row = f"#queue li[data-id='{sos_id}']"
    dashboard.wait_for_selector(row, timeout=2000)
    dashboard.wait_for_selector(f".nk-pin-sos[data-id='{sos_id}']", timeout=2000)
    assert dashboard.is_visible("#alert-banner")
    assert "Asha" in dashboard.inner_text("#alert-text")
    assert int(dashboard.get_attribute("body", "data-beeps") or 0) >= 1
    assert dashboard.evaluate("window.notReloaded") is True

    # The dispatcher opens it and sends unit A.
    dashboard.click(row)
    dashboard.wait_for_selector(f"#detail [data-sos-id='{sos_id}']")
    # The officer comes from the unit's roster, by name: nothing is typed.
    dashboard.select_option("#detail select[name=unit_number]", "UNIT-A")
    dashboard.select_option("#detail select[name=officer_name]", "Inspector Rao")
    dashboard.click("#detail form.assign button[type=submit]")
    dashboard.wait_for_selector("#detail .assignment")
    assert "Inspector Rao" in dashboard.inner_text("#detail .assignment")

    # The citizen's page says who is coming, live.
    phone.wait_for_selector("#assignment:not([hidden])", timeout=3000)
    assert phone.inner_text("#assignment") == "Officer Inspector Rao (unit UNIT-A) is assigned to you."
    assert phone.get_attribute("#status", "data-status") == "dispatched"
    assert SOS.objects.get(pk=sos_id).status == SOS.Status.DISPATCHED

    # Moving, the phone's position goes out as the trail, and the dispatcher's panel follows it.
    phone.context.set_geolocation({"latitude": 22.6001, "longitude": 88.4002, "accuracy": 8})
    assert wait_until(lambda: LocationUpdate.objects.filter(sos_request_id=sos_id, latitude=22.6001).exists())
    # A selector, not a JavaScript string: the pages' Content-Security-Policy forbids eval.
    dashboard.wait_for_selector("#detail:has-text('22.60010, 88.40020')")

    # A reload keeps the alert: the token stayed in the browser.
    phone.reload()
    phone.wait_for_selector("main[data-state=active] #assignment:not([hidden])")
    assert "Inspector Rao" in phone.inner_text("#assignment")


def test_a_citizen_cancels_an_sos_and_it_moves_to_recently_closed(dashboard_for, citizen_page, dispatcher):
    dashboard = dashboard_for(dispatcher)
    phone = citizen_page()
    phone.click("#sos-button")
    phone.wait_for_selector("main[data-state=active]")
    sos_id = phone.evaluate("JSON.parse(localStorage.getItem('naarikavach.sos')).sos_id")
    dashboard.wait_for_selector(f"#queue li[data-id='{sos_id}']", timeout=2000)

    phone.click("#cancel-button")
    # It asks first: one stray tap never cancels.
    phone.wait_for_selector("main[data-state=cancelling]")
    assert SOS.objects.get(pk=sos_id).is_open
    phone.click("#confirm-cancel")
    phone.wait_for_selector("main[data-state=closed]")
    assert "cancelled" in phone.inner_text("#closed-text")
    assert phone.evaluate("localStorage.getItem('naarikavach.sos')") is None
    dashboard.wait_for_selector(f"#queue li[data-id='{sos_id}']", state="detached", timeout=3000)
    dashboard.wait_for_selector(f".nk-pin-sos[data-id='{sos_id}']", state="detached")
    # Still visible, as what it is.
    closed = dashboard.wait_for_selector(f"#closed-list li[data-id='{sos_id}']")
    assert "cancelled by the citizen at" in closed.inner_text().lower()


def test_pressing_dont_send_during_the_countdown_sends_nothing(citizen_page):
    phone = citizen_page()
    phone.clock.install()  # the countdown's timer runs when this test moves the clock, not on the wall clock
    phone.click("#sos-button")
    phone.wait_for_selector("main[data-state=counting]")
    phone.click("#abort-button")
    phone.wait_for_selector("main[data-state=idle]")
    phone.clock.run_for(3500)  # past the end of the 3 s countdown that was stopped
    assert phone.get_attribute("main", "data-state") == "idle"
    # A positive barrier: a second press, let through, raises its SOS; had the first one gone out too, there
    # would be two by the time the page shows this one.
    phone.click("#sos-button")
    phone.wait_for_selector("main[data-state=counting]")
    phone.clock.run_for(3500)
    phone.wait_for_selector("main[data-state=active]")
    assert SOS.objects.count() == 1
