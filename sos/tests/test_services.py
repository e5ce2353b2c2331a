"""The SOS lifecycle through its services: state, audit trail and outbox events written together."""

import pytest

from accounts.models import Unit
from common.actors import Actor
from common.errors import Conflict, Forbidden, InvalidInput, NotFound
from common.tokens import hash_secret
from realtime.models import OutboxEvent
from realtime.rooms import LOCATION_TRACKING_CHANNEL, SOS_CHANNEL, sos_room, unit_room
from sos import services
from sos.models import SOS, LocationUpdate
from sos.tests.conftest import raise_sos

pytestmark = pytest.mark.django_db


def events(name):
    return list(OutboxEvent.objects.filter(event=name).order_by("id"))


def test_creating_an_sos_keeps_only_the_hash_of_its_access_token():
    raised = raise_sos()
    assert raised.sos.access_token_hash == hash_secret(raised.token)
    assert raised.token not in raised.sos.access_token_hash
    assert raised.sos.token_matches(raised.token)
    assert not raised.sos.token_matches("guess")


def test_creating_an_sos_publishes_new_sos_to_the_sos_channel_with_its_first_point():
    raised = raise_sos(latitude=28.6139, longitude=77.209)
    [event] = events("new_sos")
    assert event.rooms == [SOS_CHANNEL]
    assert event.payload["sos_id"] == raised.sos.pk
    assert event.payload["room_id"] == str(raised.sos.room_id)
    assert (event.payload["latitude"], event.payload["longitude"]) == (28.6139, 77.209)
    assert event.message()["event_id"] == event.pk
    assert raised.sos.locations.count() == 1


def test_an_sos_raised_by_a_signed_in_citizen_belongs_to_them(citizen):
    raised = raise_sos(owner=citizen)
    assert raised.sos.owner == citizen
    assert raised.sos.audit_trail.get().actor == citizen


def test_a_location_point_reaches_the_sos_room_its_unit_and_the_tracking_channel(officer_a):
    raised = raise_sos()
    actor = Actor(user=officer_a)
    services.sos_assign(sos_id=raised.sos.pk, officer_name="Insp. Rao", unit_number="UNIT-A", actor=actor)
    services.sos_location_add(sos_id=raised.sos.pk, latitude=12.98, longitude=77.6,
                              actor=Actor.from_credentials(sos_token=raised.token))

    [history] = events("location_history")
    assert history.rooms == [sos_room(raised.sos.room_id)]
    [unit_update] = events("unit_location_update")
    assert unit_update.rooms == [unit_room("UNIT-A")]
    [tracking] = events("location_tracking_update")
    assert tracking.rooms == [LOCATION_TRACKING_CHANNEL]
    assert (tracking.payload["kind"], tracking.payload["unit_number"]) == ("sos", "UNIT-A")
    raised.sos.refresh_from_db()
    assert (raised.sos.last_latitude, raised.sos.last_longitude) == (12.98, 77.6)


def test_a_point_goes_to_every_assigned_unit_and_the_tracking_channel_names_the_latest(dispatcher, unit_a, unit_b):
    raised = raise_sos()
    actor = Actor(user=dispatcher)
    # (The same unit twice is refused now: sos/tests/test_assignment_changes.py.)
    for unit in ("UNIT-B", "UNIT-A"):
        services.sos_assign(sos_id=raised.sos.pk, officer_name="Rao", unit_number=unit, actor=actor)
    services.sos_location_add(sos_id=raised.sos.pk, latitude=12.98, longitude=77.6, actor=actor)

    [unit_update] = events("unit_location_update")
    assert unit_update.rooms == [unit_room("UNIT-A"), unit_room("UNIT-B")]
    [tracking] = events("location_tracking_update")
    assert tracking.payload["unit_number"] == "UNIT-A"


def test_a_points_events_are_numbered_trail_then_unit_then_tracking(officer_a):
    raised = raise_sos()
    actor = Actor(user=officer_a)
    services.sos_assign(sos_id=raised.sos.pk, officer_name="Insp. Rao", unit_number="UNIT-A", actor=actor)
    services.sos_location_add(sos_id=raised.sos.pk, latitude=12.98, longitude=77.6, actor=actor)

    point_events = OutboxEvent.objects.filter(pk__gt=events("sos_updated")[-1].pk).order_by("id")
    assert [e.event for e in point_events] == ["location_history", "unit_location_update", "location_tracking_update"]


def test_a_point_from_someone_who_neither_owns_the_sos_nor_responds_writes_and_publishes_nothing(citizen):
    raised = raise_sos()
    other = raise_sos()

    before = (LocationUpdate.objects.count(), OutboxEvent.objects.count())
    for stranger in (Actor(), Actor.for_user(citizen), Actor.from_credentials(sos_token=other.token)):
        with pytest.raises(NotFound):
            services.sos_location_add(sos_id=raised.sos.pk, latitude=12.98, longitude=77.6, actor=stranger)
    assert (LocationUpdate.objects.count(), OutboxEvent.objects.count()) == before
    raised.sos.refresh_from_db()
    assert raised.sos.last_latitude != 12.98


def test_a_late_point_joins_the_trail_without_moving_the_current_position():
    raised = raise_sos(latitude=10.0, longitude=10.0)
    earlier = raised.sos.created_at - services.timedelta(minutes=1)
    services.sos_location_add(sos_id=raised.sos.pk, latitude=11.0, longitude=11.0, recorded_at=earlier,
                              actor=Actor.from_credentials(sos_token=raised.token))
    raised.sos.refresh_from_db()
    assert (raised.sos.last_latitude, raised.sos.last_longitude) == (10.0, 10.0)
    assert list(raised.sos.locations.values_list("latitude", flat=True)) == [11.0, 10.0]


def test_assigning_a_unit_acknowledges_and_dispatches_and_records_who_did_it(dispatcher, unit_a):
    raised = raise_sos()
    services.sos_assign(sos_id=raised.sos.pk, officer_name="Insp. Rao", unit_number="UNIT-A",
                        actor=Actor(user=dispatcher))
    raised.sos.refresh_from_db()
    unit_a.refresh_from_db()
    assert raised.sos.status == SOS.Status.DISPATCHED
    assert unit_a.status == Unit.Status.DISPATCHED
    entry = raised.sos.audit_trail.last()
    assert (entry.action, entry.from_status, entry.to_status, entry.actor) == ("assigned", "active", "dispatched", dispatcher)
    [updated] = events("sos_updated")
    assert set(updated.rooms) == {SOS_CHANNEL, sos_room(raised.sos.room_id), unit_room("UNIT-A")}
    assert updated.payload["unit_number"] == "UNIT-A"


def test_resolving_frees_the_unit_and_closes_the_sos_for_good(dispatcher, unit_a):
    raised = raise_sos()
    actor = Actor(user=dispatcher)
    services.sos_assign(sos_id=raised.sos.pk, officer_name="Rao", unit_number="UNIT-A", actor=actor)
    services.sos_resolve(sos_id=raised.sos.pk, actor=actor, note="Safe at home")
    unit_a.refresh_from_db()
    assert unit_a.status == Unit.Status.AVAILABLE
    with pytest.raises(Conflict):
        services.sos_location_add(sos_id=raised.sos.pk, latitude=1, longitude=1, actor=actor)
    with pytest.raises(Conflict):
        services.sos_cancel(sos_id=raised.sos.pk, actor=Actor.from_credentials(sos_token=raised.token))
    assert [e.action for e in raised.sos.audit_trail.all()] == ["created", "assigned", "resolved"]


def test_a_unit_still_busy_with_another_sos_stays_dispatched(dispatcher, unit_a):
    first, second = raise_sos(), raise_sos()
    actor = Actor(user=dispatcher)
    for raised in (first, second):
        services.sos_assign(sos_id=raised.sos.pk, officer_name="Rao", unit_number="UNIT-A", actor=actor)
    services.sos_resolve(sos_id=first.sos.pk, actor=actor)
    unit_a.refresh_from_db()
    assert unit_a.status == Unit.Status.DISPATCHED


def test_acknowledging_twice_is_a_conflict_and_publishes_once(dispatcher):
    raised = raise_sos()
    actor = Actor(user=dispatcher)
    services.sos_acknowledge(sos_id=raised.sos.pk, actor=actor)
    with pytest.raises(Conflict):
        services.sos_acknowledge(sos_id=raised.sos.pk, actor=actor)
    assert len(events("sos_updated")) == 1


def test_an_invalid_position_is_refused_before_anything_is_written():
    raised = raise_sos()
    before = (LocationUpdate.objects.count(), OutboxEvent.objects.count())
    with pytest.raises(InvalidInput) as refused:
        services.sos_location_add(sos_id=raised.sos.pk, latitude=91, longitude=-181,
                                  actor=Actor.from_credentials(sos_token=raised.token))
    assert set(refused.value.fields) == {"latitude", "longitude"}
    assert (LocationUpdate.objects.count(), OutboxEvent.objects.count()) == before


def test_an_officer_assigning_to_an_unknown_unit_changes_nothing(officer_a):
    raised = raise_sos()
    with pytest.raises(InvalidInput):
        services.sos_assign(sos_id=raised.sos.pk, officer_name="Rao", unit_number="NOPE",
                            actor=Actor(user=officer_a))
    raised.sos.refresh_from_db()
    assert raised.sos.status == SOS.Status.ACTIVE
    assert not events("sos_updated")
    assert not Unit.objects.filter(unit_number="NOPE").exists()


def test_an_unknown_sos_is_not_found(dispatcher):
    with pytest.raises(NotFound):
        services.sos_resolve(sos_id=424242, actor=Actor(user=dispatcher))


@pytest.mark.django_db(transaction=True)
def test_a_unit_position_goes_to_its_room_and_the_tracking_channel(officer_a):
    raised = raise_sos()
    actor = Actor(user=officer_a)
    services.sos_assign(sos_id=raised.sos.pk, officer_name="Rao", unit_number="UNIT-A", actor=actor)
    services.unit_location_update(unit_number="UNIT-A", latitude=12.95, longitude=77.58, actor=actor)
    officer_a.unit.refresh_from_db()
    assert (officer_a.unit.last_latitude, officer_a.unit.last_longitude) == (12.95, 77.58)
    [tracking] = events("location_tracking_update")
    assert (tracking.payload["kind"], tracking.payload["unit_number"], tracking.payload["assigned_sos_id"]) == (
        "unit", "UNIT-A", raised.sos.pk)
    # Its own position never carries the SOS's id as if it were the SOS's point (the NaariKavach police
    # app stores every unit_location_update under its sos_id).
    [unit_update] = [e for e in events("unit_location_update") if e.payload.get("kind") == "unit"]
    assert "sos_id" not in unit_update.payload
    [unit_loc] = events("unit_loc")
    assert unit_loc.rooms == ["officer_tracking_channel"]
    assert (unit_loc.payload["unit_id"], unit_loc.payload["latitude"], unit_loc.payload["longitude"]) == (
        "UNIT-A", 12.95, 77.58)


def test_a_dispatcher_may_report_a_units_position_but_an_officer_of_another_unit_may_not(unit_a, officer_b, dispatcher):
    services.unit_location_update(unit_number="UNIT-A", latitude=12.9, longitude=77.5, actor=Actor(user=dispatcher))
    with pytest.raises(Forbidden):
        services.unit_location_update(unit_number="UNIT-A", latitude=12.9, longitude=77.5, actor=Actor(user=officer_b))
    assert Unit.objects.get(unit_number="UNIT-A").last_latitude == 12.9


def test_resolving_publishes_sos_resolved_beside_sos_updated(dispatcher):
    raised = raise_sos()
    services.sos_assign(sos_id=raised.sos.pk, officer_name="Rao", unit_number="UNIT-A", actor=Actor(user=dispatcher))
    services.sos_resolve(sos_id=raised.sos.pk, actor=Actor(user=dispatcher))
    [resolved] = events("sos_resolved")
    assert resolved.payload == {"sos_id": raised.sos.pk, "room_id": str(raised.sos.room_id)}
    assert set(resolved.rooms) == {SOS_CHANNEL, sos_room(raised.sos.room_id), unit_room("UNIT-A")}
    assert resolved.pk == events("sos_updated")[-1].pk + 1


def test_cancelling_publishes_no_sos_resolved():
    raised = raise_sos()
    services.sos_cancel(sos_id=raised.sos.pk, actor=Actor(sos_token_hash=hash_secret(raised.token)))
    assert events("sos_resolved") == []


@pytest.mark.parametrize("unit_number", ["UNIT001", "Unit-123"])  # what the NaariKavach dashboard and tests send
def test_a_dispatcher_assigning_an_unknown_unit_creates_it_flagged_ad_hoc(unit_a, dispatcher, unit_number):
    raised = raise_sos()
    assignment = services.sos_assign(sos_id=raised.sos.pk, officer_name="Rao", unit_number=unit_number,
                                     actor=Actor(user=dispatcher))
    unit = Unit.objects.get(unit_number=unit_number)
    assert (assignment.unit, unit.is_adhoc, unit.status) == (unit, True, Unit.Status.DISPATCHED)
    assert not Unit.objects.get(unit_number="UNIT-A").is_adhoc


def test_an_unknown_unit_number_that_is_not_a_unit_number_is_refused(dispatcher):
    raised = raise_sos()
    with pytest.raises(InvalidInput) as refused:
        services.sos_assign(sos_id=raised.sos.pk, officer_name="Rao", unit_number="unit 1; drop", actor=Actor(user=dispatcher))
    assert "unit_number" in refused.value.fields
    assert not Unit.objects.filter(unit_number__startswith="unit 1").exists()
