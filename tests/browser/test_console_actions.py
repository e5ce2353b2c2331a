"""Acting safely from the console: closing asks for a note, assignment picks a unit and a rostered officer (never
the same unit twice), a unit can be taken off again, and the timeline reads in plain words."""

import pytest

from common.actors import Actor
from incidents import services as incident_services
from incidents.models import Incident
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from sos import services
from sos.models import SOS, OfficerAssignment
from tests.browser.console_support import open_console, sos_raised_minutes_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_resolve_asks_for_a_note_first_and_going_back_changes_nothing(pages, dispatcher):
    raised = sos_raised_minutes_ago(3, name="Asha")
    page = open_console(pages, dispatcher)
    page.click(f"#queue li[data-key='sos:{raised.sos.pk}']")

    page.click("#detail [data-action=resolve]")
    page.wait_for_selector("#confirm-dialog[open]")
    assert page.is_disabled("#confirm-dialog button[value=ok]")
    page.fill("#confirm-note", "   ")
    assert page.is_disabled("#confirm-dialog button[value=ok]")
    page.click("#confirm-dialog button[value=cancel]")
    page.wait_for_selector("#confirm-dialog", state="detached")
    assert SOS.objects.get(pk=raised.sos.pk).is_open

    page.click("#detail [data-action=resolve]")
    page.fill("#confirm-note", "Found safe at the bus stand")
    page.click("#confirm-dialog button[value=ok]")
    closed = page.wait_for_selector(f"#closed-list li[data-id='{raised.sos.pk}']")
    assert "Found safe at the bus stand" in closed.inner_text()
    assert SOS.objects.get(pk=raised.sos.pk).status == SOS.Status.RESOLVED
    page.wait_for_selector(f"#queue li[data-key='sos:{raised.sos.pk}']", state="detached")


def test_cancelling_for_the_citizen_needs_a_note_and_is_said_so(pages, dispatcher):
    raised = sos_raised_minutes_ago(3, name="Asha")
    page = open_console(pages, dispatcher)
    page.click(f"#queue li[data-key='sos:{raised.sos.pk}']")

    page.click("#detail [data-action=cancel-on-behalf]")
    page.fill("#confirm-note", "She called from her office: safe")
    page.click("#confirm-dialog button[value=ok]")

    closed = page.wait_for_selector(f"#closed-list li[data-id='{raised.sos.pk}']")
    assert "Cancelled for the citizen" in closed.inner_text()
    assert SOS.objects.get(pk=raised.sos.pk).status == SOS.Status.CANCELLED


def test_assign_from_the_roster_refuse_the_same_unit_take_it_off_and_read_the_timeline(pages, dispatcher, officer_a, officer_b):
    officer_a.first_name, officer_a.last_name = "Meera", "Rao"
    officer_a.save(update_fields=["first_name", "last_name"])
    for officer, latitude in ((officer_a, 22.575), (officer_b, 22.60)):
        services.unit_location_update(unit_number=officer.unit.unit_number, latitude=latitude, longitude=88.364,
                                      actor=Actor(user=officer))
    raised = sos_raised_minutes_ago(2, name="Asha")
    services.sos_acknowledge(sos_id=raised.sos.pk, actor=Actor(user=dispatcher))
    page = open_console(pages, dispatcher)
    page.click(f"#queue li[data-key='sos:{raised.sos.pk}']")

    # Nearest first, with distance and time; the officer is picked from that unit's roster, by name.
    page.wait_for_function("() => document.querySelector('#assign-unit option')?.textContent.includes('km')")
    options = page.eval_on_selector_all("#assign-unit option", "os => os.map((o) => o.textContent)")
    assert options[0].startswith("UNIT-A · available · 0.3 km")
    assert page.eval_on_selector_all("#assign-officer option", "os => os.map((o) => o.value)") == ["Meera Rao"]
    assert page.query_selector("#detail input[name=officer_name]") is None
    page.click("#detail form.assign button[type=submit]")
    page.wait_for_selector("#detail .assignment:has-text('Meera Rao')")

    # The same unit again is not offered, and the server refuses it anyway.
    assert page.eval_on_selector("#assign-unit option[value='UNIT-A']", "o => o.disabled") is True
    refused = page.evaluate("""async ([id]) => {
      const config = JSON.parse(document.getElementById('dashboard-config').textContent);
      const r = await fetch('/api/assign-officer/', {method: 'POST', headers: {'Content-Type': 'application/json',
        Authorization: `Token ${config.token}`}, body: JSON.stringify({sos_request: id, officer_name: 'X', unit_number: 'UNIT-A'})});
      return [r.status, (await r.json()).error];
    }""", [raised.sos.pk])
    assert refused == [409, "Unit UNIT-A is already assigned to this SOS."]

    page.click("#detail [data-action=unassign]")
    page.fill("#confirm-note", "Sent the wrong car")
    page.click("#confirm-dialog button[value=ok]")
    page.wait_for_selector("#detail .assignment", state="detached")
    assert not OfficerAssignment.objects.filter(sos_request_id=raised.sos.pk).exists()
    page.wait_for_selector(f"#queue li[data-key='sos:{raised.sos.pk}'][data-status=acknowledged]")

    timeline = page.inner_text("#detail ol.timeline")
    assert "Raised by the citizen" in timeline
    assert "Acknowledged by dispatch (dispatcher)" in timeline
    assert "Unit UNIT-A sent (Meera Rao) by dispatch (dispatcher)" in timeline
    assert "Unit UNIT-A taken off by dispatch (dispatcher): “Sent the wrong car”" in timeline
    assert "sos-owner-token" not in timeline and "dispatcher:" not in timeline


def test_an_incident_is_assigned_from_the_units_nearest_its_beacon_and_that_units_roster(
        pages, dispatcher, officer_a, officer_b, beacon, device):
    officer_b.first_name, officer_b.last_name = "Kiran", "Das"
    officer_b.save(update_fields=["first_name", "last_name"])
    # UNIT-B is parked at the beacon, UNIT-A some way off: the nearest comes first and is the one offered.
    for officer, latitude in ((officer_a, 22.60), (officer_b, 22.5727)):
        services.unit_location_update(unit_number=officer.unit.unit_number, latitude=latitude, longitude=88.3639,
                                      actor=Actor(user=officer))
    incident = incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                                     confidence_score=0.9, description="fight").incident
    page = open_console(pages, dispatcher)
    page.click(f"#queue li[data-key='incident:{incident.pk}']")

    page.wait_for_function("() => document.querySelector('#detail #assign-unit option')?.textContent.includes('km')")
    options = page.eval_on_selector_all("#assign-unit option", "os => os.map((o) => o.textContent)")
    assert options[0].startswith("UNIT-B · available · 0.0 km") and options[1].startswith("UNIT-A · available · 3.0 km")
    # The officer comes from the chosen unit's roster (not every officer on duty), submitted as their account.
    assert page.eval_on_selector_all("#assign-officer option", "os => os.map((o) => [o.value, o.textContent])") == [
        ["officer_b", "Kiran Das (officer_b)"]]
    page.select_option("#assign-unit", "UNIT-A")
    assert page.eval_on_selector_all("#assign-officer option", "os => os.map((o) => o.value)") == ["officer_a"]
    page.select_option("#assign-unit", "UNIT-B")
    page.click("#detail form.assign button[type=submit]")
    page.wait_for_selector(f"#detail [data-incident-id='{incident.pk}'] dd:has-text('officer_b')")
    incident.refresh_from_db()
    assert incident.assigned_to == officer_b
    assert incident.status == Incident.Status.ASSIGNED
