"""The dashboard shows each open alert's escalation level and time in status, keeps escalated alerts on top
and sounds the alarm again at every level."""

from datetime import timedelta

import pytest

from response import services
from response.tests.conftest import make_ladder
from sos.tests.conftest import raise_sos

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_escalated_sos_climbs_to_the_top_with_its_level_and_the_alarm_sounds_again(dashboard_for, dispatcher, settings):
    settings.DASHBOARD_ALARM_REPEAT_SECONDS = 3600  # only the escalations beep here (repetition: test_console_alarm)
    policy = make_ladder("sos", "emergency", [
        {"level": 1, "in_status": "active", "after_seconds": 30, "label": "Unacknowledged 30 s"},
        {"level": 2, "in_status": "active", "after_seconds": 120, "label": "Unacknowledged 2 min"},
    ])
    older, newer = raise_sos(name="Older").sos, raise_sos(name="Newer").sos
    dashboard = dashboard_for(dispatcher)
    dashboard.wait_for_selector(f"#queue li[data-id='{newer.pk}'] .in-status")
    beeps = int(dashboard.get_attribute("body", "data-beeps") or 0)

    services.escalation_fire(step_id=policy.steps.get(level=1).pk, sos_id=newer.pk,
                             now=newer.created_at + timedelta(seconds=31))
    dashboard.wait_for_selector(f"#queue li[data-id='{newer.pk}'][data-level='1']")
    after_first = int(dashboard.get_attribute("body", "data-beeps") or 0)
    services.escalation_fire(step_id=policy.steps.get(level=2).pk, sos_id=newer.pk,
                             now=newer.created_at + timedelta(seconds=121))
    dashboard.wait_for_selector(f"#queue li[data-id='{newer.pk}'][data-level='2']")

    assert after_first == beeps + 1
    assert int(dashboard.get_attribute("body", "data-beeps") or 0) == beeps + 2
    assert dashboard.inner_text(f"#queue li[data-id='{newer.pk}'] .badge.level") == "L2"
    assert "ESCALATED L2" in dashboard.inner_text("#alert-text")
    # Escalated first, though raised later; and the time in status counts up live.
    assert dashboard.eval_on_selector("#queue li", "li => li.dataset.id") == str(newer.pk)
    text = dashboard.inner_text(f"#queue li[data-id='{older.pk}'] .in-status")
    dashboard.wait_for_function("([el, text]) => el.textContent !== text",
                                arg=[dashboard.query_selector(f"#queue li[data-id='{older.pk}'] .in-status"), text])
