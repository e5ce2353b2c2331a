"""The console's map and history: follow keeps a moving SOS centred, clusters take the colour of their worst alert,
a unit shows its crew and assignment, filters narrow the queue, the history pages through closed alerts with
their notes, and evidence opens full size with its SHA-256."""

import pytest

from common.actors import Actor
from incidents import services as incident_services
from incidents.tests.factories import upload
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from naarikavach.testing import client_for
from sos import services
from sos.models import SOSImage
from tests.browser.console_support import open_console, sos_raised_minutes_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CENTRE = "() => { const c = window.naarikavach.map.getCenter(); return [c.lat, c.lng]; }"


def test_follow_keeps_the_moving_sos_in_the_middle_of_the_visible_map(pages, dispatcher):
    raised = sos_raised_minutes_ago(2, name="Asha")
    owner = Actor.from_credentials(sos_token=raised.token)
    page = open_console(pages, dispatcher)
    page.click(f"#queue li[data-key='sos:{raised.sos.pk}']")
    page.wait_for_selector("#detail input[name=follow]")
    page.check("#detail input[name=follow]")

    services.sos_location_add(sos_id=raised.sos.pk, latitude=22.70, longitude=88.50, actor=owner)
    page.wait_for_selector("#detail [data-role=trail] li:has-text('22.70000, 88.50000')")
    # The map's centre moves to her (shifted right by half the panel, which covers the right of the map).
    # (the map pans there with an animation: wait for it to settle on her)
    page.wait_for_function("() => { const c = window.naarikavach.map.getCenter(); "
                           "return Math.abs(c.lat - 22.70) < 0.01 && c.lng > 88.50 && c.lng < 88.60; }")
    lat, lng = page.evaluate(CENTRE)
    assert lng > 88.50  # the visible part's middle is left of the map's middle: the map's centre is right of her

    page.uncheck("#detail input[name=follow]")
    services.sos_location_add(sos_id=raised.sos.pk, latitude=22.40, longitude=88.20, actor=owner)
    page.wait_for_selector("#detail [data-role=trail] li:has-text('22.40000, 88.20000')")
    assert abs(page.evaluate(CENTRE)[0] - 22.70) < 0.01  # left where it was


def test_a_cluster_takes_the_colour_of_its_worst_alert_and_a_unit_shows_crew_and_assignment(pages, dispatcher, officer_a):
    calm = [sos_raised_minutes_ago(5, name=f"Seen {n}", latitude=22.5726 + n * 1e-5) for n in range(3)]
    for raised in calm:
        services.sos_acknowledge(sos_id=raised.sos.pk, actor=Actor(user=dispatcher))
    services.sos_assign(sos_id=calm[0].sos.pk, officer_name="officer_a", unit_number="UNIT-A", actor=Actor(user=dispatcher))
    services.unit_location_update(unit_number="UNIT-A", latitude=22.60, longitude=88.40, actor=Actor(user=officer_a))
    page = open_console(pages, dispatcher)
    page.evaluate("() => window.naarikavach.map.setView([22.5726, 88.3639], 11)")
    page.wait_for_selector(".nk-cluster.severity-seen")

    waiting = sos_raised_minutes_ago(0, name="Waiting", latitude=22.57262)
    page.wait_for_selector(f"#queue li[data-key='sos:{waiting.sos.pk}']")
    page.evaluate("() => window.naarikavach.map.setView([22.5726, 88.3639], 11)")
    page.wait_for_selector(".nk-cluster.severity-urgent")
    assert page.inner_text(".nk-cluster.severity-urgent") == "4"

    page.click("#unit-list li[data-id='UNIT-A']")
    page.wait_for_selector("#detail [data-unit='UNIT-A']")
    text = page.inner_text("#detail")
    assert "officer_a" in text and f"SOS #{calm[0].sos.pk}" in text


def test_filters_narrow_the_queue_and_the_history_pages_through_closed_alerts(pages, dispatcher, device, beacon):  # noqa: F811
    control = Actor(user=dispatcher)
    asha, bela = sos_raised_minutes_ago(3, name="Asha"), sos_raised_minutes_ago(2, name="Bela")
    incident = incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                                     confidence_score=0.9, description="fight").incident
    for n in range(27):
        services.sos_resolve(sos_id=sos_raised_minutes_ago(30, name=f"Closed {n}").sos.pk, actor=control, note=f"note {n}")
    page = open_console(pages, dispatcher)

    page.select_option("#filter-kind", "incident")
    page.wait_for_selector(f"#queue li[data-key='sos:{asha.sos.pk}']", state="hidden")
    assert page.is_visible(f"#queue li[data-key='incident:{incident.pk}']")
    page.select_option("#filter-kind", "")
    page.fill("#search", "bel")
    page.wait_for_selector(f"#queue li[data-key='incident:{incident.pk}']", state="hidden")
    assert page.is_visible(f"#queue li[data-key='sos:{bela.sos.pk}']")
    assert not page.is_visible(f"#queue li[data-key='sos:{asha.sos.pk}']")
    assert page.inner_text("#filter-status-text") == "1 of 3 shown"

    page.fill("#search", "")
    page.click("#history-button")
    page.wait_for_selector("#history[open] tbody tr")
    assert page.locator("#history tbody tr").count() == 25
    assert "Page 1 of 2 · 27 closed" in page.inner_text("#history")
    assert "Resolved by dispatch (dispatcher)" in page.inner_text("#history tbody tr:first-child")
    assert "note 26" in page.inner_text("#history tbody tr:first-child")
    page.click("#history button:has-text('Older')")
    page.wait_for_function("() => document.querySelectorAll('#history tbody tr').length === 2")
    page.fill("#history-q", "Closed 7")
    page.click("#history button:has-text('Show')")
    page.wait_for_function("() => document.querySelectorAll('#history tbody tr').length === 1")
    assert "note 7" in page.inner_text("#history tbody")


def test_evidence_opens_full_size_with_its_sha256_and_steps_through(pages, dispatcher, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    raised = sos_raised_minutes_ago(2, name="Asha")
    answer = client_for(sos_token=raised.token).post(
        "/api/upload-sos-images/", {"sos_id": raised.sos.pk, "images": [upload("a.jpg"), upload("b.jpg")],
                                    "descriptions": ["first", "second"]}, format="multipart")
    assert answer.status_code == 201, answer.json()
    hashes = list(SOSImage.objects.filter(sos_request=raised.sos).order_by("uploaded_at", "id").values_list("sha256", flat=True))
    page = open_console(pages, dispatcher)
    page.click(f"#queue li[data-key='sos:{raised.sos.pk}']")

    page.click("#detail .thumb-open >> nth=0")
    page.wait_for_selector("#viewer[open] img[src]")
    assert page.inner_text("#viewer .sha256") == f"SHA-256 {hashes[0]}"
    assert "1 of 2" in page.inner_text("#viewer")
    page.click("#viewer button:has-text('Next')")
    page.wait_for_function("(h) => document.querySelector('#viewer .sha256').textContent.endsWith(h)", arg=hashes[1])
    page.keyboard.press("Escape")
    page.wait_for_selector("#viewer", state="detached")


def test_the_area_filter_keeps_alerts_within_a_radius_of_the_map_centre_and_re_centres_when_chosen_again(
        pages, dispatcher):
    # Around the centre of Kolkata: one alert ~1.3 km away, one ~2.8 km, one ~7 km (Salt Lake).
    park_street = sos_raised_minutes_ago(3, name="Park", latitude=22.5626, longitude=88.3580)
    howrah = sos_raised_minutes_ago(2, name="Howrah", latitude=22.5830, longitude=88.3390)
    salt_lake = sos_raised_minutes_ago(1, name="Salt", latitude=22.5860, longitude=88.4310)
    row = "#queue li[data-key='sos:{}']".format
    page = open_console(pages, dispatcher)
    page.evaluate("() => naarikavach.map.setView([22.5726, 88.3639], 13, { animate: false })")

    page.select_option("#filter-area", "2")
    page.wait_for_selector(row(salt_lake.sos.pk), state="hidden")
    assert page.is_visible(row(park_street.sos.pk))
    assert not page.is_visible(row(howrah.sos.pk))
    assert page.inner_text("#filter-status-text") == "1 of 3 shown"
    assert page.locator("#map path.nk-area").count() == 1

    page.select_option("#filter-area", "5")
    page.wait_for_selector(row(howrah.sos.pk))
    assert page.is_visible(row(park_street.sos.pk)) and not page.is_visible(row(salt_lake.sos.pk))

    # Moved to Salt Lake and chosen again: the area follows the map centre of that moment.
    page.evaluate("() => naarikavach.map.setView([22.5860, 88.4310], 13, { animate: false })")
    page.select_option("#filter-area", "1")
    page.wait_for_selector(row(salt_lake.sos.pk))
    assert not page.is_visible(row(park_street.sos.pk)) and not page.is_visible(row(howrah.sos.pk))

    page.select_option("#filter-area", "")
    page.wait_for_selector(row(howrah.sos.pk))
    assert page.inner_text("#filter-status-text") == ""
    assert page.locator("#map path.nk-area").count() == 0


def test_the_history_filters_by_how_it_closed_priority_and_unit_and_opens_with_the_queues_unit(
        pages, dispatcher, officer_a, unit_b):
    control = Actor(user=dispatcher)
    sent = sos_raised_minutes_ago(20, name="Sent")
    services.sos_assign(sos_id=sent.sos.pk, officer_name="Rao", unit_number="UNIT-A", actor=control)
    services.sos_resolve(sos_id=sent.sos.pk, actor=control, note="brought home")
    gone = sos_raised_minutes_ago(10, name="Gone")
    services.sos_cancel(sos_id=gone.sos.pk, actor=Actor.from_credentials(sos_token=gone.token))
    plain = sos_raised_minutes_ago(5, name="Plain")
    services.sos_resolve(sos_id=plain.sos.pk, actor=control, note="nothing found")
    rows = "() => [...document.querySelectorAll('#history tbody tr')].map((r) => r.cells[1].textContent)"
    page = open_console(pages, dispatcher)

    page.select_option("#filter-unit", "UNIT-A")
    page.click("#history-button")
    page.wait_for_selector("#history[open] tbody tr")
    assert page.input_value("#history-unit") == "UNIT-A"
    assert page.evaluate(rows) == [f"SOS #{sent.sos.pk} · Sent"]

    page.select_option("#history-unit", "")
    page.select_option("#history-status", "cancelled")
    page.click("#history button:has-text('Show')")
    page.wait_for_function(f"() => ({rows})().join() === 'SOS #{gone.sos.pk} · Gone'")
    assert "Page 1 of 1 · 1 closed" in page.inner_text("#history")

    page.select_option("#history-status", "resolved")
    page.select_option("#history-priority", "low")
    page.click("#history button:has-text('Show')")
    page.wait_for_function("() => document.querySelector('#history [role=status]').textContent.includes('0 closed')")
    assert page.locator("#history tbody tr").count() == 0
    page.select_option("#history-priority", "critical")
    page.click("#history button:has-text('Show')")
    page.wait_for_function(f"() => ({rows})().length === 2")
    assert page.evaluate(rows) == [f"SOS #{plain.sos.pk} · Plain", f"SOS #{sent.sos.pk} · Sent"]
