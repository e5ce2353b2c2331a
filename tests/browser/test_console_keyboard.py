"""The console with the keyboard alone: a skip link to the queue, markers out of the tab order, and shortcuts
(j/k, a, d, r, /, f, ?) that act on the alert in the panel."""

import pytest

from common.actors import Actor
from sos import services
from sos.models import SOS
from tests.browser.console_support import open_console, sos_raised_minutes_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_skip_link_reaches_the_queue_and_no_marker_is_a_tab_stop(pages, dispatcher, officer_a):
    services.unit_location_update(unit_number="UNIT-A", latitude=22.57, longitude=88.36, actor=Actor(user=officer_a))
    raised = [sos_raised_minutes_ago(9 - n, name=f"Citizen {n}", latitude=22.57 + n * 0.01) for n in range(8)]
    page = open_console(pages, dispatcher)
    page.wait_for_selector(".nk-pin-unit")

    assert page.eval_on_selector_all(".leaflet-marker-icon", "els => els.filter((e) => e.tabIndex >= 0).length") == 0
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the search box, then the kind filter... the queue's one tab stop comes after the filters
    for _ in range(6):
        if page.evaluate("() => document.activeElement.dataset.key || ''"):
            break
        page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.dataset.key") == f"sos:{raised[0].sos.pk}"


def test_shortcuts_move_acknowledge_dispatch_resolve_search_follow_and_help(pages, dispatcher, officer_a):
    first, second = sos_raised_minutes_ago(5, name="First"), sos_raised_minutes_ago(4, name="Second")
    page = open_console(pages, dispatcher)
    page.focus("#queue-heading")

    page.keyboard.press("j")
    page.wait_for_selector(f"#detail [data-sos-id='{first.sos.pk}']")
    page.keyboard.press("j")
    page.wait_for_selector(f"#detail [data-sos-id='{second.sos.pk}']")
    page.keyboard.press("k")
    page.wait_for_selector(f"#detail [data-sos-id='{first.sos.pk}']")
    assert page.evaluate("() => document.activeElement.dataset.key") == f"sos:{first.sos.pk}"

    page.keyboard.press("a")
    page.wait_for_selector(f"#queue li[data-key='sos:{first.sos.pk}'][data-status=acknowledged]")
    assert SOS.objects.get(pk=first.sos.pk).status == SOS.Status.ACKNOWLEDGED

    page.keyboard.press("f")
    assert page.get_attribute("body", "data-follow") == "on"
    page.keyboard.press("f")
    assert page.get_attribute("body", "data-follow") == "off"

    page.wait_for_selector("#assign-unit")
    page.keyboard.press("d")
    assert page.evaluate("() => document.activeElement.id") == "assign-unit"
    page.keyboard.press("Escape")  # leaves the field (typing keys go to fields, not to shortcuts)
    page.keyboard.press("r")
    page.wait_for_selector("#confirm-dialog[open]")
    assert page.evaluate("() => document.activeElement.id") == "confirm-note"
    page.keyboard.press("Escape")
    page.wait_for_selector("#confirm-dialog", state="detached")
    assert SOS.objects.get(pk=first.sos.pk).is_open

    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.id") == "search"
    page.keyboard.type("Second")
    page.wait_for_selector(f"#queue li[data-key='sos:{first.sos.pk}']", state="hidden")
    assert page.is_visible(f"#queue li[data-key='sos:{second.sos.pk}']")
    page.keyboard.press("Escape")

    page.keyboard.press("?")
    page.wait_for_selector("#help[open]")
    assert "Acknowledge the open alert" in page.inner_text("#help")
    page.keyboard.press("Escape")
    page.wait_for_selector("#help", state="detached")
