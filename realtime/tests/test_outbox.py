"""Reads of the outbox (replay by room, bounds) and its pruning."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from realtime import rooms, selectors
from realtime.events import Event, publish, publish_many
from realtime.models import OutboxEvent
from realtime.services import outbox_prune


def make_events(count: int, room: str = rooms.SOS_CHANNEL, age: timedelta = timedelta(0)) -> list[OutboxEvent]:
    created_at = timezone.now() - age
    return [OutboxEvent.objects.create(event="new_sos", rooms=[room], payload={"n": i}, created_at=created_at)
            for i in range(count)]


def test_replay_returns_only_the_rooms_events_in_the_range_in_id_order(db):
    before = make_events(1)
    mine = make_events(2)
    make_events(2, room=rooms.LOCATION_TRACKING_CHANNEL)
    both = OutboxEvent.objects.create(event="sos_updated", rooms=[rooms.SOS_CHANNEL, "sos:x"], payload={})
    make_events(1)

    replayed = selectors.outbox_replay(room=rooms.SOS_CHANNEL, after_id=before[0].pk, upto_id=both.pk, limit=100)

    assert [e.id for e in replayed] == [mine[0].pk, mine[1].pk, both.pk]
    assert replayed[0].message == {"n": 0, "event_id": mine[0].pk}
    assert replayed[-1].rooms == {rooms.SOS_CHANNEL, "sos:x"}


def test_events_published_together_are_numbered_in_the_order_given(db, settings):
    settings.EVENT_SCHEMA_STRICT = False  # made-up events: this is about the outbox's numbering
    with transaction.atomic():
        written = publish_many([Event(event=f"step{i}", rooms=["sos:x", "sos:x"], payload={"n": i}) for i in range(5)])

    stored = list(OutboxEvent.objects.order_by("id"))
    assert [(e.pk, e.event, e.payload, e.rooms) for e in stored] == [
        (w.pk, f"step{i}", {"n": i}, ["sos:x"]) for i, w in enumerate(written)]


@pytest.mark.django_db(transaction=True)
def test_publishing_several_events_outside_a_transaction_is_refused(settings):
    settings.EVENT_SCHEMA_STRICT = False
    with pytest.raises(RuntimeError):
        publish_many([Event(event="new_sos", rooms=[rooms.SOS_CHANNEL], payload={})])
    with pytest.raises(RuntimeError):
        publish(event="new_sos", rooms=[rooms.SOS_CHANNEL], payload={})
    assert not OutboxEvent.objects.exists()


def test_replay_stops_at_the_limit(db):
    events = make_events(5)

    replayed = selectors.outbox_replay(room=rooms.SOS_CHANNEL, after_id=0, upto_id=events[-1].pk, limit=2)

    assert [e.id for e in replayed] == [events[0].pk, events[1].pk]


def test_the_live_tail_reads_every_room_after_the_cursor(db):
    events = make_events(2) + make_events(2, room="unit:A")

    assert [e.id for e in selectors.outbox_after(after_id=events[0].pk, limit=10)] == [e.pk for e in events[1:]]


def test_pruning_deletes_expired_events_from_the_oldest_and_keeps_the_rest(db):
    expired = make_events(3, age=timedelta(hours=80))
    kept = make_events(2, age=timedelta(hours=1))

    deleted = outbox_prune(retention_hours=72)

    assert deleted == len(expired)
    assert list(OutboxEvent.objects.values_list("id", flat=True)) == [e.pk for e in kept]
    assert selectors.outbox_bounds() == selectors.OutboxBounds(oldest_id=kept[0].pk, newest_id=kept[-1].pk)


def test_pruning_always_keeps_the_newest_event(db):
    events = make_events(3, age=timedelta(hours=100))

    outbox_prune(retention_hours=1)

    assert list(OutboxEvent.objects.values_list("id", flat=True)) == [events[-1].pk]


def test_the_prune_command_uses_the_retention_setting(db, settings, capsys):
    settings.OUTBOX_RETENTION_HOURS = 2
    make_events(2, age=timedelta(hours=3))
    make_events(1, age=timedelta(hours=1))

    call_command("prune_outbox")

    assert "Deleted 2 outbox events" in capsys.readouterr().out
    assert OutboxEvent.objects.count() == 1


def test_pruning_an_empty_outbox_deletes_nothing(db):
    assert outbox_prune(retention_hours=0) == 0
