"""The console's area drawn on the map: corners clicked with the mouse narrow the queue to the alerts inside, an
alert with no position yet stays in view and flagged, the map shows only what the queue shows, the history follows
the same area, and the area clears."""

import pytest

from common.actors import Actor
from sos import services
from tests.browser.console_support import open_console, sos_raised_minutes_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A square of about 2.6 × 2.6 km around Kolkata's centre, corner by corner.
SQUARE = [(22.560, 88.350), (22.560, 88.375), (22.585, 88.375), (22.585, 88.350)]
ON_SCREEN = """([lat, lng]) => {
  const map = window.naarikavach.map;
  const point = map.latLngToContainerPoint([lat, lng]);
  const box = map.getContainer().getBoundingClientRect();
  return [box.left + point.x, box.top + point.y];
}"""


def row(key: str) -> str:
    return f"#queue li[data-key='{key}']"


def pin(raised) -> str:
    return f".nk-pin[data-kind=sos][data-id='{raised.sos.pk}']"


def show_both(page):
    """A view with both the inside and the outside alert on screen, apart (not clustered together)."""
    page.evaluate("() => window.naarikavach.map.setView([22.59, 88.39], 12, { animate: false })")


def corner(page, latlng) -> tuple[float, float]:
    return tuple(page.evaluate(ON_SCREEN, list(latlng)))


def test_an_area_drawn_with_the_mouse_filters_the_queue_and_the_history_and_clears(pages, dispatcher):
    inside = sos_raised_minutes_ago(4, name="Inside", latitude=22.5726, longitude=88.3639)
    outside = sos_raised_minutes_ago(3, name="Outside", latitude=22.6100, longitude=88.4200)
    pending = sos_raised_minutes_ago(2, name="Pending", latitude=None, longitude=None)
    control = Actor(user=dispatcher)
    closed_inside = sos_raised_minutes_ago(60, name="Closed inside", latitude=22.570, longitude=88.360)
    closed_outside = sos_raised_minutes_ago(60, name="Closed outside", latitude=22.610, longitude=88.420)
    never_located = sos_raised_minutes_ago(60, name="Never located", latitude=None, longitude=None)
    for raised in (closed_inside, closed_outside, never_located):
        services.sos_resolve(sos_id=raised.sos.pk, actor=control, note=f"note {raised.sos.name}")
    page = open_console(pages, dispatcher)
    page.evaluate("() => window.naarikavach.map.setView([22.5725, 88.3625], 14, { animate: false })")
    everyone = [f"sos:{raised.sos.pk}" for raised in (inside, outside, pending)]
    for key in everyone:
        page.wait_for_selector(row(key))

    assert page.get_attribute("#area-draw", "aria-pressed") == "false"
    page.click("#area-draw")
    assert page.get_attribute("#area-draw", "aria-pressed") == "true"
    assert page.is_visible("#area-hint")  # the instructions show while drawing
    # A screen reader hears how to draw from the button itself (its description).
    assert page.get_attribute("#area-draw", "aria-describedby") == "area-hint"
    assert "Escape cancels" in page.text_content("#area-hint")
    for latlng in SQUARE[:3]:
        page.mouse.click(*corner(page, latlng))
    page.mouse.dblclick(*corner(page, SQUARE[3]))  # the last corner, and done

    page.wait_for_selector(row(f"sos:{outside.sos.pk}"), state="hidden")
    assert page.is_visible(row(f"sos:{inside.sos.pk}"))
    # No position yet: never hidden by an area, and flagged.
    assert page.is_visible(row(f"sos:{pending.sos.pk}"))
    assert "LOCATION PENDING" in page.inner_text(row(f"sos:{pending.sos.pk}"))
    assert page.inner_text("#filter-status-text") == "2 of 3 shown · 1 with no position yet, kept in view"
    assert page.input_value("#filter-area") == "drawn"
    assert page.get_attribute("#area-draw", "aria-pressed") == "false"
    # The map shows what the queue shows.
    show_both(page)
    page.wait_for_selector(pin(inside))
    assert page.locator(pin(outside)).count() == 0
    drawn = page.evaluate("() => window.naarikavach.state.area.points")
    assert len(drawn) == 4
    assert all(abs(lat - want[0]) < 2e-4 and abs(lng - want[1]) < 2e-4 for (lat, lng), want in zip(drawn, SQUARE))

    # The history opens narrowed to the same area, and says what an area cannot show.
    page.click("#history-button")
    page.wait_for_selector("#history[open] tbody tr")
    assert page.locator("#history tbody tr").count() == 1
    assert "note Closed inside" in page.inner_text("#history tbody")
    assert "1 closed alerts never located are in no area" in page.inner_text("#history-area")
    page.keyboard.press("Escape")
    page.wait_for_selector("#history", state="detached")

    page.click("#area-clear")
    page.wait_for_selector(row(f"sos:{outside.sos.pk}"))
    page.wait_for_selector(pin(outside))
    assert page.inner_text("#filter-status-text") == ""
    assert page.is_hidden("#area-clear") and page.input_value("#filter-area") == ""

    # Escape stops a drawing without filtering; a click on the first corner closes the area.
    page.evaluate("() => window.naarikavach.map.setView([22.5725, 88.3625], 14, { animate: false })")
    page.click("#area-draw")
    page.mouse.click(*corner(page, SQUARE[0]))
    page.mouse.click(*corner(page, SQUARE[1]))
    page.keyboard.press("Escape")
    assert page.get_attribute("#area-draw", "aria-pressed") == "false"
    assert page.evaluate("() => window.naarikavach.state.area") is None
    page.click("#area-draw")
    for latlng in SQUARE[:3]:
        page.mouse.click(*corner(page, latlng))
    page.mouse.click(*corner(page, SQUARE[0]))
    page.wait_for_selector(row(f"sos:{outside.sos.pk}"), state="hidden")
    assert len(page.evaluate("() => window.naarikavach.state.area.points")) == 3
    assert page.is_visible(row(f"sos:{pending.sos.pk}"))


def test_a_corner_on_a_pin_is_a_corner_not_a_selection(pages, dispatcher):
    inside = sos_raised_minutes_ago(4, name="Inside", latitude=22.5726, longitude=88.3639)
    page = open_console(pages, dispatcher)
    page.evaluate("() => window.naarikavach.map.setView([22.5725, 88.3625], 14, { animate: false })")
    page.wait_for_selector(pin(inside))

    page.click("#area-draw")
    page.mouse.click(*corner(page, (22.5726, 88.3639)))  # right on the SOS's pin
    for latlng in SQUARE[1:3]:
        page.mouse.click(*corner(page, latlng))
    page.mouse.dblclick(*corner(page, SQUARE[3]))

    page.wait_for_function("() => window.naarikavach.state.area !== null")
    drawn = page.evaluate("() => window.naarikavach.state.area.points")
    assert len(drawn) == 4 and abs(drawn[0][0] - 22.5726) < 2e-4 and abs(drawn[0][1] - 88.3639) < 2e-4
    assert page.evaluate("() => window.naarikavach.state.selected") is None
    assert page.is_hidden("#detail")
    # Drawing over (and the area, whose corner the pin is, cleared), the pin opens its alert again.
    page.click("#area-clear")
    page.click(pin(inside))
    page.wait_for_selector("#detail:not([hidden])")
