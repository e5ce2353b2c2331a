"""The citizen's SOS always goes out, on a 390×844 phone: no location, no network, double presses, a forced cancel."""

import json
import urllib.request

import pytest

from naarikavach.testing import wait_until
from sos.models import SOS

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
KOLKATA = {"latitude": 22.5726, "longitude": 88.3639, "accuracy": 12}



@pytest.fixture
def phone(pages):
    def open_phone(*, located=True):
        extra = {"geolocation": KOLKATA, "permissions": ["geolocation"]} if located else {}
        page = pages("/sos/", **PHONE, **extra)
        page.wait_for_selector("body[data-ready=true]")
        return page

    return open_phone


def _post_json(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


def press_sos(page):
    page.click("#sos-button")
    page.wait_for_selector("main[data-state=counting]")


def current_sos_id(page):
    return page.evaluate("JSON.parse(localStorage.getItem('naarikavach.sos')).sos_id")


def test_with_location_denied_the_sos_goes_out_as_location_pending_then_is_located(phone, dashboard_for, dispatcher):
    dashboard = dashboard_for(dispatcher)
    citizen = phone(located=False)
    press_sos(citizen)
    citizen.wait_for_selector("main[data-state=active]")
    assert "without your location" in citizen.inner_text("#location-status")
    sos_id = current_sos_id(citizen)
    assert SOS.objects.get(pk=sos_id).location_pending

    row = dashboard.wait_for_selector(f"#queue li[data-id='{sos_id}']", timeout=3000)
    assert "LOCATION PENDING" in row.inner_text()
    assert "location pending" in dashboard.inner_text("#alert-text")

    # She allows location (or a fix comes): the page, still trying, sends it; the dashboard follows.
    citizen.context.grant_permissions(["geolocation"])
    citizen.context.set_geolocation(KOLKATA)
    assert wait_until(lambda: not SOS.objects.get(pk=sos_id).location_pending, timeout=12)
    dashboard.wait_for_selector(f".nk-pin-sos[data-id='{sos_id}']", timeout=3000)
    assert "LOCATION PENDING" not in dashboard.inner_text(f"#queue li[data-id='{sos_id}']")
    assert SOS.objects.get(pk=sos_id).last_latitude == pytest.approx(22.5726)


def test_a_press_while_offline_is_queued_and_sent_once_when_the_network_returns(phone):
    citizen = phone()
    citizen.context.set_offline(True)
    press_sos(citizen)
    citizen.wait_for_selector("main[data-state=queued]")
    assert citizen.inner_text("#queued-text") == "Queued: will be sent when you are back online. Call 112 now."
    assert citizen.is_visible("#call-112") and citizen.get_attribute("#call-112", "href") == "tel:112"
    assert "22.57260" in citizen.get_attribute("#sms-112", "href").replace("%2C", ",")
    assert not SOS.objects.exists()

    citizen.context.set_offline(False)
    citizen.wait_for_selector("main[data-state=active]", timeout=15000)
    assert SOS.objects.count() == 1
    assert citizen.evaluate("NaariKavachQueue.all().then((items) => items.length)") == 0
    assert SOS.objects.get().pk == current_sos_id(citizen)


def test_a_double_press_raises_one_sos(phone):
    citizen = phone()
    citizen.clock.install()
    citizen.evaluate("document.getElementById('sos-button').click(); document.getElementById('sos-button').click()")
    # Every timer the two presses could have started runs out (the countdown is 3 s).
    citizen.clock.run_for(10_000)
    citizen.wait_for_selector("main[data-state=active]")
    citizen.clock.run_for(10_000)
    # Nothing left waiting on the phone that could still go out as a second alert.
    # Predicates are functions, not strings: the page's Content-Security-Policy forbids evaluating strings.
    citizen.wait_for_function("body => NaariKavachQueue.all().then((items) => items.length === 0)",
                              arg=citizen.query_selector("body"))
    assert SOS.objects.count() == 1


def test_an_answer_lost_on_the_way_back_is_retried_without_a_second_sos(phone):
    citizen = phone()
    lost = []

    def lose_first_answer(route):
        response = route.fetch()  # the server raises the SOS...
        if not lost:
            lost.append(response.status)
            route.abort("connectionreset")  # ...but the phone never hears back
        else:
            route.fulfill(response=response)

    citizen.route("**/api/create-sos/", lose_first_answer)
    press_sos(citizen)
    citizen.wait_for_selector("main[data-state=active]", timeout=15000)
    assert lost == [201]
    assert SOS.objects.count() == 1
    assert SOS.objects.get().token_matches(citizen.evaluate("JSON.parse(localStorage.getItem('naarikavach.sos')).access_token"))


def test_the_duress_pin_looks_cancelled_on_the_phone_but_stays_open_and_flagged_on_the_dashboard(
        phone, dashboard_for, dispatcher):
    dashboard = dashboard_for(dispatcher)
    citizen = phone()
    citizen.click("#pin-setup summary")
    citizen.fill("#pin", "1234")
    citizen.fill("#duress-pin", "9999")
    press_sos(citizen)
    citizen.wait_for_selector("main[data-state=active]")
    sos_id = current_sos_id(citizen)
    dashboard.wait_for_selector(f"#queue li[data-id='{sos_id}']", timeout=3000)

    citizen.click("#cancel-button")
    citizen.wait_for_selector("#cancel-pin-field:not([hidden])")
    citizen.fill("#cancel-pin", "9999")
    citizen.click("#confirm-cancel")
    citizen.wait_for_selector("main[data-state=closed]")
    assert citizen.inner_text("#closed-text") == "You cancelled your SOS."
    assert citizen.evaluate("localStorage.getItem('naarikavach.sos')") is None

    row = dashboard.wait_for_selector(f"#queue li[data-id='{sos_id}'] .flag-cancelled-under-duress", timeout=3000)
    assert row.inner_text() == "CANCELLED UNDER DURESS"
    assert dashboard.get_attribute("#queue li:first-child", "data-id") == str(sos_id)
    assert "CANCELLED UNDER DURESS" in dashboard.inner_text("#alert-text")
    assert SOS.objects.get(pk=sos_id).is_open
    # Her position still reaches the police, with nothing on the phone to show it.
    citizen.context.set_geolocation({"latitude": 22.5811, "longitude": 88.3702, "accuracy": 10})
    assert wait_until(lambda: SOS.objects.get(pk=sos_id).locations.filter(latitude=22.5811).exists(), timeout=12)
    assert citizen.get_attribute("main", "data-state") == "closed"
    assert citizen.inner_text("#closed-text") == "You cancelled your SOS."


def test_a_wrong_pin_keeps_the_sos_and_says_so(phone):
    citizen = phone()
    citizen.click("#pin-setup summary")
    citizen.fill("#pin", "1234")
    press_sos(citizen)
    citizen.wait_for_selector("main[data-state=active]")
    citizen.click("#cancel-button")
    citizen.fill("#cancel-pin", "0000")
    citizen.click("#confirm-cancel")
    citizen.wait_for_selector("#error:not([hidden])")
    assert "Wrong PIN" in citizen.inner_text("#error")
    assert SOS.objects.get().is_open


def test_a_flood_from_one_address_is_grouped_and_a_second_citizen_there_still_alerts(
        phone, dashboard_for, dispatcher, live_server, settings):
    settings.SOS_FLOOD_SENDER_THRESHOLD = 2
    settings.SOS_FLOOD_ADDRESS_THRESHOLD = 2
    dashboard = dashboard_for(dispatcher)
    body = {"name": "Fake", "sos_type": 0, "initial_latitude": 22.5, "initial_longitude": 88.3}
    for _ in range(6):  # a script from the same (local) address as the citizen's phone
        assert _post_json(f"{live_server.url}/api/create-sos/", body) == 201
    dashboard.wait_for_function(
        "body => body.querySelector('#flood-list .flood-group summary')?.textContent === '4 unverified SOS from one source'",
        arg=dashboard.query_selector("body"))

    citizen = phone()
    press_sos(citizen)
    citizen.wait_for_selector("main[data-state=active]")
    sos_id = current_sos_id(citizen)
    assert not SOS.objects.get(pk=sos_id).suspected_flood
    dashboard.wait_for_selector(f"#queue > li[data-id='{sos_id}']", timeout=3000)
    dashboard.wait_for_function("([body, text]) => body.querySelector('#alert-text').textContent.includes(text)",
                                arg=[dashboard.query_selector("body"), f"New SOS #{sos_id}"])


def test_beyond_the_hard_ceiling_the_page_offers_call_and_sms_not_an_error(phone, settings):
    settings.SOS_FLOOD_CEILING = 0
    citizen = phone()
    press_sos(citizen)
    citizen.wait_for_selector("main[data-state=queued]")
    assert "Call or text 112 now" in citizen.inner_text("#queued-text")
    assert citizen.is_visible("#call-112") and citizen.is_visible("#sms-112")
    assert not SOS.objects.exists()


def test_the_page_is_installable_and_loads_offline(phone):
    citizen = phone()
    manifest = citizen.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then((r) => r.json())")
    assert manifest["start_url"] == "/sos/" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}
    citizen.wait_for_function("body => navigator.serviceWorker.controller !== null", arg=citizen.query_selector("body"),
                              timeout=10000)
    citizen.context.set_offline(True)
    citizen.reload()
    citizen.wait_for_selector("body[data-ready=true]")
    assert citizen.is_visible("#sos-button") and citizen.is_visible("#call-112")


def test_the_call_and_sms_buttons_are_large_and_always_on_screen(phone):
    citizen = phone()
    for selector in ("#call-112", "#sms-112"):
        box = citizen.locator(selector).bounding_box()
        assert box["height"] >= 48 and box["width"] >= 120
        assert box["y"] + box["height"] <= 844


def test_an_sos_refused_for_an_optional_detail_goes_out_without_it(phone):
    citizen = phone()
    # A phone whose browser reports an odd language tag, longer than the API takes as a hint.
    citizen.add_init_script("Object.defineProperty(navigator, 'language', {get: () => 'x'.repeat(80)})")
    citizen.reload()
    citizen.wait_for_selector("body[data-ready=true]")
    press_sos(citizen)
    citizen.wait_for_selector("main[data-state=active]")
    sos = SOS.objects.get()
    assert sos.device_hints == {} and sos.last_latitude == pytest.approx(22.5726)
    assert citizen.is_hidden("#error")


def test_a_pin_set_while_the_sos_is_raised_is_then_asked_for(phone):
    citizen = phone()
    press_sos(citizen)
    citizen.wait_for_selector("main[data-state=active]")
    citizen.click("#pin-later summary")
    citizen.fill("#later-pin", "2468")
    citizen.fill("#later-duress-pin", "1357")
    citizen.click("#save-pin")
    citizen.wait_for_selector("#pin-saved:not([hidden])")
    assert SOS.objects.get().has_cancel_pin
    citizen.click("#cancel-button")
    citizen.wait_for_selector("#cancel-pin-field:not([hidden])")
    citizen.fill("#cancel-pin", "1357")
    citizen.click("#confirm-cancel")
    citizen.wait_for_selector("main[data-state=closed]")
    sos = SOS.objects.get()
    assert sos.is_open and sos.under_duress


def _rewrite_create_body(page, **changes):
    """Alter the create-sos request in transit, as an older cached page or a tampered queue would send it."""
    def rewrite(route):
        body = json.loads(route.request.post_data)
        body.update(changes)
        route.continue_(post_data=json.dumps(body))

    page.route("**/api/create-sos/", rewrite)


def test_a_pin_the_server_drops_is_not_believed_set_and_she_is_told(phone):
    citizen = phone()
    _rewrite_create_body(citizen, cancel_pin="12a4")
    citizen.click("#pin-setup summary")
    citizen.fill("#pin", "1234")
    citizen.fill("#duress-pin", "9999")
    press_sos(citizen)
    citizen.wait_for_selector("main[data-state=active]")
    citizen.wait_for_selector("#error:not([hidden])")
    assert "PIN could not be saved" in citizen.inner_text("#error")
    stored = citizen.evaluate("JSON.parse(localStorage.getItem('naarikavach.sos'))")
    assert stored["has_pin"] is False and stored["duress_digest"] is None
    sos = SOS.objects.get()
    assert sos.is_open and not sos.cancel_pin_hash
    # With no PIN on the SOS, the page offers to set one and cancels without asking for it.
    assert citizen.is_visible("#pin-later")
    citizen.click("#cancel-button")
    assert citizen.is_hidden("#cancel-pin-field")


def test_a_duress_pin_the_server_drops_leaves_only_the_cancel_pin_and_she_is_told(phone):
    citizen = phone()
    _rewrite_create_body(citizen, duress_pin="1234")  # the same as the cancel PIN: refused by the server
    citizen.click("#pin-setup summary")
    citizen.fill("#pin", "1234")
    citizen.fill("#duress-pin", "9999")
    press_sos(citizen)
    citizen.wait_for_selector("main[data-state=active]")
    citizen.wait_for_selector("#error:not([hidden])")
    assert "duress PIN could not be saved" in citizen.inner_text("#error")
    stored = citizen.evaluate("JSON.parse(localStorage.getItem('naarikavach.sos'))")
    assert stored["has_pin"] is True and stored["duress_digest"] is None
    assert SOS.objects.get().cancel_pin_hash
