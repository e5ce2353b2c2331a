"""The response-time report against figures worked out by hand (nearest-rank percentiles) on a fixed day."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from incidents.models import Incident, IncidentAuditEntry
from sos.models import SOS, SOSAuditEntry
from sos.tests.conftest import raise_sos

DAY = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def sos_with(milestones: dict, *, raised: datetime = DAY, sos_type: int = SOS.Type.EMERGENCY) -> SOS:
    sos = raise_sos().sos
    SOS.objects.filter(pk=sos.pk).update(created_at=raised, sos_type=sos_type)
    for action, seconds in milestones.items():
        SOSAuditEntry.objects.create(sos_request=sos, action=action, actor_label="dispatcher:dispatch",
                                     created_at=raised + timedelta(seconds=seconds))
    return sos


def incident_with(beacon, kind: str, milestones: dict) -> Incident:
    incident = Incident.objects.create(kind=kind, beacon=beacon, priority="High", created_at=DAY)
    for action, seconds in milestones.items():
        IncidentAuditEntry.objects.create(incident=incident, action=action, actor_label="dispatcher:dispatch",
                                          created_at=DAY + timedelta(seconds=seconds))
    return incident


@pytest.fixture
def day_of_alerts(beacon, settings):
    settings.RESPONSE_TARGET_ACKNOWLEDGE_SECONDS, settings.RESPONSE_TARGET_ON_SCENE_SECONDS = 60, 900
    sos_with({"acknowledged": 10, "assigned": 70, "on_scene": 400, "resolved": 1000})
    sos_with({"acknowledged": 50, "assigned": 100, "on_scene": 1000, "resolved": 2000})
    sos_with({"assigned": 90})  # assigned straight away: acknowledged and dispatched at once; still open
    sos_with({"cancelled": 20}, sos_type=SOS.Type.ALERT)  # never acknowledged
    incident_with(beacon, "violence", {"acknowledged": 30, "assigned": 60, "started": 300, "resolved": 600})
    incident_with(beacon, "scream", {"acknowledged": 200})
    sos_with({"acknowledged": 5}, raised=DAY + timedelta(days=1))  # the next day: not in the report


def test_the_report_for_a_day_gives_hand_computed_percentiles_and_shares(day_of_alerts, client_for, dispatcher):
    response = client_for(dispatcher).get(reverse("report-response-times"), {"from": "2026-11-20", "to": "2026-11-20"})

    assert response.status_code == 200
    report = response.json()
    overall = report["overall"]
    assert overall["alerts"] == 6
    # Acknowledged: 10, 30, 50, 90, 200 s. p50 = 3rd of 5, p90 = 5th of 5; within 60 s: 3 of 6 alerts.
    assert overall["acknowledge"] == {"count": 5, "p50": 50.0, "p90": 200.0, "within_target": 0.5}
    assert overall["dispatch"] == {"count": 4, "p50": 70.0, "p90": 100.0, "within_target": None}
    # On scene: 300, 400, 1000 s; within 900 s: 2 of 6.
    assert overall["on_scene"] == {"count": 3, "p50": 400.0, "p90": 1000.0, "within_target": 0.3333}
    assert overall["resolve"] == {"count": 3, "p50": 1000.0, "p90": 2000.0, "within_target": None}
    citizen, camera = report["by_source"]["citizen"], report["by_source"]["camera"]
    assert (citizen["alerts"], citizen["acknowledge"]) == (4, {"count": 3, "p50": 50.0, "p90": 90.0,
                                                               "within_target": 0.5})
    assert citizen["on_scene"] == {"count": 2, "p50": 400.0, "p90": 1000.0, "within_target": 0.25}
    assert camera["acknowledge"] == {"count": 2, "p50": 30.0, "p90": 200.0, "within_target": 0.5}
    assert report["by_kind"]["sos_alert"]["acknowledge"] == {"count": 0, "p50": None, "p90": None,
                                                             "within_target": 0.0}
    assert set(report["by_kind"]) == {"sos_emergency", "sos_alert", "violence", "scream"}
    assert report["targets"] == {"acknowledge_seconds": 60, "on_scene_seconds": 900}


def test_the_report_is_for_dispatch_supervisors_and_refuses_bad_periods(db, client_for, officer_a, dispatcher):
    url = reverse("report-response-times")
    staff = client_for(dispatcher)

    assert client_for(officer_a).get(url).status_code == 403
    assert staff.get(url, {"from": "yesterday"}).status_code == 400
    assert staff.get(url, {"from": "2026-11-21", "to": "2026-11-20"}).status_code == 400
    assert staff.get(url, {"from": "2024-01-01", "to": "2026-01-01"}).status_code == 400
    empty = staff.get(url, {"from": "2026-11-20T00:00:00+00:00", "to": "2026-11-20T01:00:00+00:00"})
    assert empty.status_code == 200 and empty.json()["overall"]["alerts"] == 0


def test_the_report_can_list_each_alerts_own_times(day_of_alerts, client_for, dispatcher):
    report = client_for(dispatcher).get(reverse("report-response-times"),
                                        {"from": "2026-11-20", "alerts": "true"}).json()

    emergencies = [a for a in report["alerts"] if a["kind"] == "sos_emergency"]
    assert sorted((a["acknowledge_seconds"], a["dispatch_seconds"], a["on_scene_seconds"], a["resolve_seconds"])
                  for a in emergencies) == [(10.0, 70.0, 400.0, 1000.0), (50.0, 100.0, 1000.0, 2000.0),
                                      (90.0, 90.0, None, None)]
    assert len(report["alerts"]) == 6
