"""axe-core (from npm, injected by the test) finds no serious or critical WCAG 2.2 AA violation on the console's
main states: the queue, an open SOS, an open incident, a confirmation, the history, drawing an area, and the dark
theme."""

from pathlib import Path

import pytest

from common.actors import Actor
from incidents import services as incident_services
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from sos import services
from tests.browser.console_support import open_console, sos_raised_minutes_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_violations_on_the_consoles_main_states(pages, dispatcher, officer_a, device, beacon, scheme):  # noqa: F811
    services.unit_location_update(unit_number="UNIT-A", latitude=22.57, longitude=88.36, actor=Actor(user=officer_a))
    waiting = sos_raised_minutes_ago(3, name="Asha")
    seen = sos_raised_minutes_ago(8, name="Bela")
    services.sos_acknowledge(sos_id=seen.sos.pk, actor=Actor(user=dispatcher))
    services.sos_assign(sos_id=seen.sos.pk, officer_name="officer_a", unit_number="UNIT-A", actor=Actor(user=dispatcher))
    incident = incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                                     confidence_score=0.9, description="fight").incident
    closed = sos_raised_minutes_ago(20, name="Chitra")
    services.sos_resolve(sos_id=closed.sos.pk, actor=Actor(user=dispatcher), note="Safe")
    # bypass_csp: axe is injected as a script by the test, which the page's Content-Security-Policy would refuse.
    page = open_console(pages, dispatcher, color_scheme=scheme, bypass_csp=True)
    found = {}

    found["queue"] = serious_violations(page)
    page.click(f"#queue li[data-key='sos:{waiting.sos.pk}']")
    page.wait_for_selector(f"#detail [data-sos-id='{waiting.sos.pk}']")
    found["sos detail"] = serious_violations(page)
    page.click(f"#queue li[data-key='incident:{incident.pk}']")
    page.wait_for_selector(f"#detail [data-incident-id='{incident.pk}']")
    found["incident detail"] = serious_violations(page)
    page.click("#detail [data-action=resolve]")
    page.wait_for_selector("#confirm-dialog[open]")
    found["confirmation"] = serious_violations(page)
    page.keyboard.press("Escape")
    page.click("#history-button")
    page.wait_for_selector("#history[open] tbody tr")
    found["history"] = serious_violations(page)
    page.keyboard.press("Escape")
    page.wait_for_selector("#history", state="detached")
    page.click("#area-draw")
    page.wait_for_selector("#area-hint.active")
    found["drawing an area"] = serious_violations(page)

    assert found == {state: [] for state in found}
