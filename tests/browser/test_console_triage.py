"""The console's queue puts what needs a human first, counts time in status live, stacks arrivals in the banner
and keeps the dispatcher's focus and selection through live updates."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from common.actors import Actor
from incidents import services as incident_services
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from response import services as response_services
from response.tests.conftest import make_ladder
from sos import services
from sos.models import SOS
from tests.browser.console_support import open_console, queue_keys, sos_raised_minutes_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_queue_puts_the_escalated_first_then_unacknowledged_then_the_longest_waiting_with_live_times(
    pages, dispatcher, device, beacon  # noqa: F811
):
    control = Actor(user=dispatcher)
    policy = make_ladder("sos", "emergency", [{"level": 1, "in_status": "active", "after_seconds": 30, "label": "30 s"},
                                              {"level": 2, "in_status": "active", "after_seconds": 120, "label": "2 min"}])
    seen_long_ago = sos_raised_minutes_ago(40, name="Seen")
    services.sos_acknowledge(sos_id=seen_long_ago.sos.pk, actor=control)
    waiting_long = sos_raised_minutes_ago(20, name="Waiting long")
    waiting_short = sos_raised_minutes_ago(1, name="Waiting short")
    escalated = sos_raised_minutes_ago(1, name="Escalated")
    response_services.escalation_fire(step_id=policy.steps.get(level=1).pk, sos_id=escalated.sos.pk,
                                      now=escalated.sos.created_at + timedelta(seconds=31))
    incident = incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                                     confidence_score=0.9, description="fight").incident

    page = open_console(pages, dispatcher, clock_at=timezone.now())

    assert queue_keys(page) == [f"sos:{escalated.sos.pk}", f"sos:{waiting_long.sos.pk}", f"sos:{waiting_short.sos.pk}",
                                f"incident:{incident.pk}", f"sos:{seen_long_ago.sos.pk}"]
    row = f"#queue li[data-key='sos:{waiting_long.sos.pk}'] .in-status"
    assert re.match(r"^20:0\d in status$", page.inner_text(row))
    # The colours step with the ladder: twenty minutes is past its last step, one minute past its first.
    assert page.get_attribute(row, "class") == "in-status wait-2"
    short = f"#queue li[data-key='sos:{waiting_short.sos.pk}'] .in-status"
    assert page.get_attribute(short, "class") == "in-status wait-1"
    page.clock.run_for(60_000)
    assert re.match(r"^21:0\d in status$", page.inner_text(row))
    assert re.match(r"^02:0\d in status$", page.inner_text(short))
    assert page.get_attribute(short, "class") == "in-status wait-2"


def test_three_arrivals_stack_in_the_banner_land_on_top_and_leave_the_selection_alone(pages, dispatcher):
    old = sos_raised_minutes_ago(10, name="Old")
    page = open_console(pages, dispatcher)
    page.click(f"#queue li[data-key='sos:{old.sos.pk}']")
    page.wait_for_selector(f"#detail [data-sos-id='{old.sos.pk}']")

    arrivals = [sos_raised_minutes_ago(0, name=f"New {n}") for n in range(3)]
    for raised in arrivals:
        page.wait_for_selector(f"#queue li[data-key='sos:{raised.sos.pk}'].fresh")

    assert page.inner_text("#alert-count") == "3 new"
    assert "New SOS" in page.inner_text("#alert-text") and "New 0" in page.inner_text("#alert-text")
    assert queue_keys(page)[:3] == [f"sos:{raised.sos.pk}" for raised in arrivals]
    # The dispatcher was busy with the old one: still selected, still open in the panel.
    assert page.get_attribute("#queue li.selected", "data-key") == f"sos:{old.sos.pk}"
    assert page.is_visible(f"#detail [data-sos-id='{old.sos.pk}']")
    assert page.title().startswith("(3) ")


def test_focus_on_a_row_survives_hundreds_of_unit_updates(pages, dispatcher, officer_a):
    raised = [sos_raised_minutes_ago(5 - n, name=f"Citizen {n}") for n in range(5)]
    page = open_console(pages, dispatcher)
    target = f"sos:{raised[2].sos.pk}"
    page.focus(f"#queue li[data-key='{target}']")
    # Marks the row: a rebuilt list would bring a new element without the mark.
    page.eval_on_selector(f"#queue li[data-key='{target}']", "row => { row.dataset.mark = 'kept'; }")

    officer = Actor(user=officer_a)
    for step in range(300):  # 30 s of a unit reporting ten times a second
        services.unit_location_update(unit_number="UNIT-A", latitude=22.5 + step * 1e-4, longitude=88.3, actor=officer)
    page.wait_for_function("() => window.naarikavach.state.units.get('UNIT-A')?.last_latitude > 22.5298")

    assert page.evaluate("() => document.activeElement.dataset.key") == target
    assert page.evaluate("() => document.activeElement.dataset.mark") == "kept"
    assert queue_keys(page) == [f"sos:{r.sos.pk}" for r in raised]


def test_a_row_scrolled_into_sight_shows_its_time_in_status_up_to_date(pages, dispatcher):
    # More rows than the sidebar shows: the clocks of rows out of sight are not rewritten every second.
    raised = [sos_raised_minutes_ago(30 - n, name=f"Citizen {n}") for n in range(30)]
    page = open_console(pages, dispatcher, clock_at=timezone.now(), viewport={"width": 1366, "height": 500})
    last = f"#queue li[data-key='sos:{raised[-1].sos.pk}']"
    # textContent: out of sight the row is not rendered (content-visibility), so it has no innerText.
    assert re.match(r"^01:0\d in status$", page.text_content(f"{last} .in-status"))
    assert page.eval_on_selector(last, "row => row.getBoundingClientRect().top > window.innerHeight")

    page.clock.pause_at(timezone.now() + timedelta(seconds=5))  # from here on, only run_for moves the page's time
    page.clock.run_for(120_000)
    page.eval_on_selector(last, "row => row.scrollIntoView()")

    # In sight, it is brought up to date at once (the clock stands still: no tick comes to do it).
    page.wait_for_function("(row) => /^03:\\d\\d in status$/.test(row.querySelector('.in-status').innerText)",
                           arg=page.query_selector(last))
    assert page.get_attribute(f"{last} .in-status", "class") == "in-status wait-2"


def test_a_row_says_when_the_alert_was_raised_in_the_dispatchers_own_clock(pages, dispatcher):
    """Hours and minutes in the browser's locale and zone: 15:04 UTC is "08:34 PM" in Kolkata for an en-US browser
    (the row once cut a 12-hour time to its first five characters, "08:34", dropping the PM)."""
    raised = sos_raised_minutes_ago(1, name="Asha")
    afternoon = timezone.now().replace(hour=15, minute=4, second=0, microsecond=0)
    if afternoon > timezone.now():
        afternoon -= timedelta(days=1)
    SOS.objects.filter(pk=raised.sos.pk).update(created_at=afternoon)

    page = open_console(pages, dispatcher, locale="en-US", timezone_id="Asia/Kolkata")

    row = page.locator(f"#queue > li[data-key='sos:{raised.sos.pk}']")
    assert re.search(r"raised 08:34\sPM", row.inner_text()), row.inner_text()
