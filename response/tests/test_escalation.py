"""Escalation with a fake clock: the scheduler's tick is given the time, so deadlines are crossed exactly."""

import importlib
import threading
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.urls import reverse

from common.actors import Actor
from incidents import services as incident_services
from incidents.models import AlertDelivery, AlertTarget, Incident
from realtime.models import OutboxEvent
from response import services
from response.models import Escalation, EscalationPolicy
from response.tests.conftest import make_ladder
from sos import services as sos_services
from sos.tests.conftest import raise_sos

SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def supervisors(settings):
    settings.ESCALATION_SUPERVISOR_EMAILS = ["duty-inspector@example.org"]
    settings.ESCALATION_SUPERVISOR_WEBHOOKS = ["https://cad.example.org/hooks"]
    settings.ALERT_EMAIL_RECIPIENTS, settings.ALERT_WEBHOOK_URLS = [], []


def escalated_events(event="sos_escalated"):
    return list(OutboxEvent.objects.filter(event=event).order_by("id").values_list("payload", flat=True))


def test_an_sos_left_alone_escalates_at_30_and_120_seconds_once_each(sos_ladder, dispatcher):
    dispatcher.email = "dispatch@example.org"
    dispatcher.save()
    sos = raise_sos().sos
    t0 = sos.created_at

    assert services.escalation_tick(now=t0 + 29 * SECOND) == []
    [first] = services.escalation_tick(now=t0 + 30 * SECOND)
    assert services.escalation_tick(now=t0 + 119 * SECOND) == []
    [second] = services.escalation_tick(now=t0 + 120 * SECOND)
    assert services.escalation_tick(now=t0 + 3600 * SECOND) == []

    assert (first.level, first.sos_id, second.level) == (1, sos.pk, 2)
    events = escalated_events()
    assert [(e["sos_id"], e["level"], e["label"], e["seconds_in_status"]) for e in events] == [
        (sos.pk, 1, "30 s", 30), (sos.pk, 2, "2 min", 120),
    ]
    # For the police only: never to the citizen's own SOS room.
    assert {tuple(e.rooms) for e in OutboxEvent.objects.filter(event="sos_escalated")} == {("sos_channel",)}
    assert list(sos.audit_trail.filter(action="escalated").values_list("details__level", "actor_label")) == [
        (1, "system:escalation"), (2, "system:escalation"),
    ]
    deliveries = AlertDelivery.objects.filter(sos=sos, event="sos_escalated").order_by("id")
    assert [(d.payload["escalation_level"], d.channel, d.target) for d in deliveries] == [
        (1, "email", "duty-inspector@example.org"), (1, "webhook", "https://cad.example.org/hooks"),
        (2, "email", "duty-inspector@example.org"), (2, "webhook", "https://cad.example.org/hooks"),
        (2, "email", "dispatch@example.org"),
    ]


def test_an_sos_acknowledged_before_its_deadline_does_not_escalate(sos_ladder, dispatcher):
    sos = raise_sos().sos
    sos_services.sos_acknowledge(sos_id=sos.pk, actor=Actor.for_user(dispatcher))

    assert services.escalation_tick(now=sos.created_at + 600 * SECOND) == []
    assert not Escalation.objects.exists() and escalated_events() == []


def test_dispatched_with_no_unit_on_scene_for_15_minutes_warns(sos_ladder, dispatcher, unit_a):
    sos = raise_sos().sos
    sos_services.sos_assign(sos_id=sos.pk, officer_name="Meera", unit_number=unit_a.unit_number,
                            actor=Actor.for_user(dispatcher))
    dispatched_at = sos.audit_trail.get(action="assigned").created_at

    assert services.escalation_tick(now=dispatched_at + 899 * SECOND) == []
    [warning] = services.escalation_tick(now=dispatched_at + 900 * SECOND)

    assert (warning.level, warning.in_status) == (3, "dispatched")


def test_a_crash_mid_step_leaves_nothing_behind_and_the_step_fires_on_the_next_tick(sos_ladder, monkeypatch):
    sos = raise_sos().sos
    real_queue = services.alert_deliveries_queue

    def crash(**kwargs):
        raise RuntimeError("killed while writing the alert rows")

    monkeypatch.setattr(services, "alert_deliveries_queue", crash)
    with pytest.raises(RuntimeError):
        services.escalation_tick(now=sos.created_at + 31 * SECOND)
    left_behind = (Escalation.objects.count(), sos.audit_trail.filter(action="escalated").count(),
                   len(escalated_events()), AlertDelivery.objects.filter(event="sos_escalated").count())
    monkeypatch.setattr(services, "alert_deliveries_queue", real_queue)
    fired = services.escalation_tick(now=sos.created_at + 31 * SECOND)

    assert left_behind == (0, 0, 0, 0)
    assert [e.level for e in fired] == [1] and len(escalated_events()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_firing_the_same_step_at_once_fire_it_once():
    make_ladder("sos", "emergency", [{"level": 1, "in_status": "active", "after_seconds": 30,
                                      "notify_supervisors": True}])
    sos = raise_sos().sos
    start = threading.Barrier(2)
    results, errors = [], []

    def scheduler():
        try:
            start.wait()
            results.append(services.escalation_tick(now=sos.created_at + 31 * SECOND))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert sorted(len(r) for r in results) == [0, 1]
    assert Escalation.objects.count() == 1 and len(escalated_events()) == 1
    # Once for each supervisor target (an email and a webhook), not twice.
    assert AlertDelivery.objects.filter(event="sos_escalated").count() == 2


def test_an_incident_escalates_on_its_own_ladder_and_a_step_can_raise_its_priority(device, beacon):
    make_ladder("incident", "scream", [{"level": 1, "in_status": "CREATED", "after_seconds": 30,
                                        "raise_priority": True, "label": "Unacknowledged"}])
    result = incident_services.ai_detection_report(kind="scream", device=device, beacon_id=beacon.beacon_id,
                                                   confidence_score=0.95, description="Scream")
    incident = result.incident

    [escalation] = services.escalation_tick(now=incident.created_at + 30 * SECOND)

    incident.refresh_from_db()
    assert escalation.incident_id == incident.pk and incident.priority == Incident.Priority.CRITICAL
    [event] = escalated_events("incident_escalated")
    assert (event["incident_id"], event["level"], event["priority"]) == (str(incident.pk), 1, "Critical")
    assert list(incident.audit_trail.values_list("action", flat=True)) == ["created", "escalated", "priority_raised"]


def test_a_policy_for_an_exact_priority_wins_over_the_one_for_any_priority(device, beacon):
    make_ladder("incident", "violence", [{"level": 1, "in_status": "CREATED", "after_seconds": 300}])
    make_ladder("incident", "violence", [{"level": 1, "in_status": "CREATED", "after_seconds": 10}],
                priority="Critical")
    incident = incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                                     confidence_score=0.95, description="Fight").incident

    fired = services.escalation_tick(now=incident.created_at + 10 * SECOND)

    assert [e.incident_id for e in fired] == [incident.pk]


def test_a_duress_cancel_escalates_the_sos_to_its_next_level_once(sos_ladder, client_for):
    AlertTarget.objects.create(name="Control room", channel="email", target="control@example.org",
                               events=["sos_cancelled_under_duress"])
    raised = raise_sos()
    services.escalation_tick(now=raised.sos.created_at + 30 * SECOND)
    sos_services.sos_cancel(sos_id=raised.sos.pk, actor=Actor.from_credentials(sos_token=raised.token), reason="")

    first = services.escalation_raise(sos_id=raised.sos.pk, reason=services.DURESS_CANCEL)
    again = services.escalation_raise(sos_id=raised.sos.pk, reason=services.DURESS_CANCEL)

    assert (first.level, first.reason, again) == (2, "duress_cancel", None)
    [event] = [e for e in escalated_events() if e["level"] == 2]
    assert (event["status"], event["reason"], event["label"]) == ("cancelled", "duress_cancel",
                                                                  "Cancelled with the duress code")
    targets = set(AlertDelivery.objects.filter(event="sos_cancelled_under_duress").values_list("target", flat=True))
    assert targets == {"duty-inspector@example.org", "https://cad.example.org/hooks", "control@example.org"}


def test_a_raise_for_an_unknown_sos_or_without_a_reason_is_refused(db):
    from common.errors import InvalidInput, NotFound

    with pytest.raises(NotFound):
        services.escalation_raise(sos_id=999999, reason=services.CHECKIN_EXPIRED)
    with pytest.raises(InvalidInput):
        services.escalation_raise(sos_id=999999, reason=" ")


def test_the_board_lists_open_alerts_escalated_first_for_responders_only(sos_ladder, client_for, dispatcher,
                                                                          citizen):
    waiting, escalated = raise_sos(name="First").sos, raise_sos(name="Second").sos
    services.escalation_fire(step_id=sos_ladder.steps.get(level=1).pk, sos_id=escalated.pk,
                             now=escalated.created_at + 40 * SECOND)

    board = client_for(dispatcher).get(reverse("escalation-board"))
    refused = client_for(citizen).get(reverse("escalation-board"))

    assert board.status_code == 200
    assert [(row["sos_id"], row["level"], row["label"]) for row in board.json()["sos"]] == [
        (escalated.pk, 1, "30 s"), (waiting.pk, 0, ""),
    ]
    assert board.json()["sos"][0]["status_since"] is not None
    assert refused.status_code == 403


def test_the_seeded_defaults_escalate_unacknowledged_alerts_at_30_and_120_seconds(db):
    migration = importlib.import_module("response.migrations.0002_default_escalation_policies")
    migration.create_defaults(django_apps, None)

    ladders = {
        (p.source, p.kind): [(s.level, s.in_status, s.after_seconds) for s in p.steps.order_by("level")]
        for p in EscalationPolicy.objects.prefetch_related("steps")
    }
    assert ladders[("sos", "emergency")] == [(1, "active", 30), (2, "active", 120), (3, "dispatched", 900)]
    assert ladders[("incident", "violence")] == [(1, "CREATED", 30), (2, "CREATED", 120), (3, "ASSIGNED", 900)]
    assert set(ladders) == {("sos", "emergency"), ("sos", "alert"), ("incident", "violence"),
                            ("incident", "scream")}


def test_the_scheduler_escalates_a_duress_cancel_on_its_own_once(sos_ladder):
    sos, token = sos_services.sos_create(name="Asha", sos_type=0, latitude=12.97, longitude=77.59,
                                         cancel_pin="1234", duress_pin="9999")
    owner = Actor.from_credentials(sos_token=token)
    sos_services.sos_cancel(sos_id=sos.pk, actor=owner, reason="", pin="9999")

    first = services.escalation_tick(now=sos.created_at + SECOND)
    again = services.escalation_tick(now=sos.created_at + 2 * SECOND)

    assert [(e.sos_id, e.reason) for e in first] == [(sos.pk, "duress_cancel")]
    assert again == []
    assert [e["reason"] for e in escalated_events()] == ["duress_cancel"]


def test_a_walk_me_home_check_in_that_runs_out_raises_an_sos_that_escalates_at_once(db, citizen, settings):
    from contacts.services import checkin_start

    settings.CHECKIN_GRACE_SECONDS = 60
    checkin = checkin_start(owner=citizen, minutes=20, pin="4321")

    assert services.escalation_tick(now=checkin.due_at) == []  # in its grace period: nothing yet
    fired = services.escalation_tick(now=checkin.due_at + 61 * SECOND)

    [escalation] = [e for e in fired if e.reason == "checkin_expired"]
    assert escalation.sos.owner == citizen and escalation.level == 1
    later = services.escalation_tick(now=checkin.due_at + 62 * SECOND)
    assert not [e for e in later if e.reason == "checkin_expired"]


def test_a_camera_incident_joined_to_an_open_sos_raises_it_once(sos_ladder, device, beacon):
    from incidents.models import IncidentSignal

    raised = raise_sos()
    incident = incident_services.ai_detection_report(
        kind="violence", device=device, beacon_id=beacon.beacon_id, confidence_score=0.95, description="fight",
    ).incident
    IncidentSignal.objects.create(incident=incident, signal_type=IncidentSignal.Type.SOS, sos=raised.sos,
                                  device=device, confidence_score=0.95, description="camera linked to the SOS")

    first = services.escalation_tick(now=raised.sos.created_at + SECOND)
    again = services.escalation_tick(now=raised.sos.created_at + 2 * SECOND)

    assert [(e.sos_id, e.reason) for e in first if e.sos_id] == [(raised.sos.pk, "camera_incident")]
    assert not [e for e in again if e.reason == "camera_incident"]
