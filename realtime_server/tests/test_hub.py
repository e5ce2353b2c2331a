"""The delivery hub against the real outbox: exactly once, in order, across replays, races and resyncs.

The hub is driven directly here, with a transport that records what each client would be sent, so the
races between a replay and the live loop can be staged step by step; tests/test_realtime_*.py run the
same code behind real sockets.
"""

import asyncio
from collections import defaultdict

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from accounts.models import User
from common.actors import Actor
from naarikavach import testing
from realtime import rooms
from realtime.models import OutboxEvent
from realtime.services import outbox_prune
from realtime_server.db import close_db_connections
from realtime_server.hub import Hub, JoinPlan
from realtime_server.joins import JoinRefused, JoinTarget
from realtime_server.testing import is_strictly_increasing
from sos import services

pytestmark = pytest.mark.django_db(transaction=True)

DISPATCHER = Actor(user=User(pk=1, username="dispatch", role="dispatcher"))
TOKENS: dict[int, str] = {}  # each SOS raised here and its access token
SOS_CHANNEL = JoinTarget(room=rooms.SOS_CHANNEL, reply={"channel": rooms.SOS_CHANNEL})
TRACKING = JoinTarget(room=rooms.LOCATION_TRACKING_CHANNEL, reply={"channel": rooms.LOCATION_TRACKING_CHANNEL})


class RecordingTransport:
    def __init__(self):
        self.sent = defaultdict(list)

    async def send(self, event, message, to):
        for sid in to:
            self.sent[sid].append((event, message))

    def events(self, sid, *names):
        control = {"connection_established", "room_joined", "rooms_joined", "error", "resync_required"}
        return [(e, m) for e, m in self.sent[sid] if (e in names if names else e not in control)]

    def ids(self, sid, *names):
        return [m["event_id"] for _, m in self.events(sid, *names)]


def given(target: JoinTarget | list[JoinTarget], last_event_id: int | None):
    """A join the permission checks allowed (one room, or several in one message), resuming from `last_event_id`."""
    targets = target if isinstance(target, list) else [target]

    async def resolve(principal):
        return JoinPlan(rooms=[(t, "joined") for t in targets], last_event_id=last_event_id,
                        combined=isinstance(target, list))

    return resolve


class StagedHub(Hub):
    """A hub that runs `between` after a join has taken its snapshot and before it reads the replay or trail."""

    between = None

    async def _catch_up_room(self, target, last_event_id, snapshot, client=None):
        if self.between is not None:
            step, self.between = self.between, None
            await step()
        return await super()._catch_up_room(target, last_event_id, snapshot, client)


@pytest.fixture
async def hub():
    # The outbox is emptied between tests; a first event makes every id a test reads a real resume point.
    await raise_sos("earlier")
    hub = StagedHub(RecordingTransport(), poll_interval=0.05)
    await hub.start()
    loop = asyncio.create_task(hub.run())
    yield hub
    loop.cancel()
    await asyncio.gather(loop, return_exceptions=True)


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    """The hub reads in its own threads; their connections must not outlive the test database."""
    yield
    await close_db_connections()
    await sync_to_async(connections.close_all)()


@sync_to_async
def raise_sos(name="Asha"):
    sos, token = services.sos_create(name=name, sos_type=0, latitude=12.97, longitude=77.59)
    TOKENS[sos.pk] = token
    return sos


@sync_to_async
def add_point(sos, latitude=12.98):
    services.sos_location_add(sos_id=sos.pk, latitude=latitude, longitude=77.6, actor=Actor.from_credentials(sos_token=TOKENS[sos.pk]))


@sync_to_async
def acknowledge(sos):
    dispatcher = testing.make_staff("dispatch", User.Role.DISPATCHER)
    services.sos_acknowledge(sos_id=sos.pk, actor=Actor(user=dispatcher))


@sync_to_async
def newest_id():
    return OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


@sync_to_async
def ids_in(room, after=0):
    return [e.pk for e in OutboxEvent.objects.filter(id__gt=after).order_by("id") if room in e.rooms]


async def test_a_client_in_two_rooms_gets_an_event_for_both_once(hub):
    sos = await raise_sos()
    hub.add_client("c1", DISPATCHER, None)
    await hub.join("c1", given(SOS_CHANNEL, None))
    await hub.join("c1", given(JoinTarget(room=rooms.sos_room(sos.room_id), reply={}, sos_id=sos.pk), None))
    await acknowledge(sos)
    await hub.catch_up()

    updates = hub.transport.events("c1", "sos_updated")
    assert [m["action"] for _, m in updates] == ["acknowledged"]


async def test_a_join_with_a_resume_point_replays_missed_events_before_live_ones(hub):
    seen = await newest_id()
    missed = [await raise_sos(f"missed {i}") for i in range(3)]
    await hub.catch_up()
    hub.add_client("c1", DISPATCHER, None)
    await hub.join("c1", given(SOS_CHANNEL, seen))
    live = await raise_sos("live")
    await hub.catch_up()

    assert [m["sos_id"] for _, m in hub.transport.events("c1")] == [s.pk for s in missed] + [live.pk]
    assert is_strictly_increasing(hub.transport.ids("c1"))


async def test_events_dispatched_while_a_replay_is_read_arrive_once_right_after_it(hub):
    seen = await newest_id()
    await raise_sos("missed")
    await hub.catch_up()
    hub.add_client("c1", DISPATCHER, None)

    async def meanwhile():
        # The live loop delivers these after the join's snapshot and before its replay is read.
        await raise_sos("during replay 1")
        await raise_sos("during replay 2")
        await hub.catch_up()

    hub.between = meanwhile
    await hub.join("c1", given(SOS_CHANNEL, seen))
    await raise_sos("after")
    await hub.catch_up()

    names = [m["name"] for _, m in hub.transport.events("c1")]
    assert names == ["missed", "during replay 1", "during replay 2", "after"]


async def test_joins_sent_together_make_one_stream_in_id_order(hub):
    sos = await raise_sos("first")
    seen = await newest_id()
    for i in range(3):
        await add_point(sos, 12.9 + i / 100)
        await raise_sos(f"missed {i}")
    await hub.catch_up()
    hub.add_client("c1", DISPATCHER, seen)

    async def meanwhile():
        await add_point(sos, 13.5)
        await raise_sos("during")
        await hub.catch_up()

    hub.between = meanwhile
    await asyncio.gather(hub.join("c1", given(SOS_CHANNEL, seen)), hub.join("c1", given(TRACKING, seen)))
    await add_point(sos, 13.6)
    await hub.catch_up()

    expected = sorted(set(await ids_in(rooms.SOS_CHANNEL, seen))
                      | set(await ids_in(rooms.LOCATION_TRACKING_CHANNEL, seen)))
    assert hub.transport.ids("c1") == expected


async def test_a_join_with_a_slow_permission_check_still_joins_the_same_stream(hub):
    sos = await raise_sos("first")
    seen = await newest_id()
    for i in range(3):
        await add_point(sos, 12.9 + i / 100)  # to the SOS room (and the tracking channel)
        await raise_sos(f"missed {i}")  # to sos_channel
    await hub.catch_up()
    hub.add_client("c1", DISPATCHER, seen)
    sos_room = JoinTarget(room=rooms.sos_room(sos.room_id), reply={}, sos_id=sos.pk)

    channel_joined = asyncio.Event()

    async def slow_check(principal):
        await channel_joined.wait()  # a database lookup that ends only after the whole channel join beside it
        return JoinPlan(rooms=[(sos_room, "joined")], last_event_id=seen)

    async def channel_join():
        await hub.join("c1", given(SOS_CHANNEL, seen))
        channel_joined.set()

    await asyncio.gather(hub.join("c1", slow_check), channel_join())

    expected = sorted(set(await ids_in(rooms.SOS_CHANNEL, seen)) | set(await ids_in(sos_room.room, seen)))
    assert hub.transport.ids("c1") == expected


async def test_a_refused_join_answers_error_and_joins_nothing(hub):
    hub.add_client("c1", DISPATCHER, None)

    async def refuse(principal):
        raise JoinRefused("Not for you.")

    await hub.join("c1", refuse)
    await raise_sos()
    await hub.catch_up()

    assert [(e, m["message"]) for e, m in hub.transport.sent["c1"]] == [("error", "Not for you.")]
    assert hub.clients["c1"].hold is None


async def test_a_join_without_a_resume_point_gets_only_new_events(hub):
    await raise_sos("before")
    await hub.catch_up()
    hub.add_client("c1", DISPATCHER, None)
    await hub.join("c1", given(SOS_CHANNEL, None))
    await raise_sos("after")
    await hub.catch_up()

    assert [m["name"] for _, m in hub.transport.events("c1")] == ["after"]


async def test_an_sos_room_join_sends_the_trail_then_each_new_point_once(hub):
    sos = await raise_sos()
    await add_point(sos, 12.99)
    await hub.catch_up()
    hub.add_client("c1", DISPATCHER, None)

    async def meanwhile():
        await add_point(sos, 13.01)  # after the snapshot the join started from, before the trail is read
        await hub.catch_up()

    hub.between = meanwhile
    await hub.join("c1", given(JoinTarget(room=rooms.sos_room(sos.room_id), reply={}, sos_id=sos.pk), None))
    await add_point(sos, 13.02)
    await hub.catch_up()

    history = [m for _, m in hub.transport.events("c1", "location_history")]
    assert [p["latitude"] for p in history[0]["updates"]] == [12.97, 12.99, 13.01]
    assert [p["latitude"] for p in history[1:]] == [13.02]
    assert is_strictly_increasing(hub.transport.ids("c1"))


async def test_room_joined_carries_a_resume_point_that_loses_nothing(hub):
    hub.add_client("quiet", DISPATCHER, None)
    await hub.join("quiet", given(SOS_CHANNEL, None))
    resume_from = hub.transport.events("quiet", "room_joined")[0][1]["event_id"]
    hub.remove_client("quiet")
    raised_while_away = await raise_sos("while away")
    await hub.catch_up()

    hub.add_client("back", DISPATCHER, resume_from)
    await hub.join("back", given(SOS_CHANNEL, resume_from))

    assert [m["sos_id"] for _, m in hub.transport.events("back")] == [raised_while_away.pk]


async def test_a_pruned_resume_point_gets_resync_required_and_live_events(hub):
    seen = await newest_id()
    for i in range(3):
        await raise_sos(f"old {i}")
    await sync_to_async(outbox_prune)(retention_hours=0)  # keeps only the newest event
    kept = await newest_id()
    await hub.catch_up()
    hub.add_client("c1", DISPATCHER, None)
    await hub.join("c1", given(SOS_CHANNEL, seen))
    await raise_sos("new")
    await hub.catch_up()

    (_, resync), = hub.transport.events("c1", "resync_required")
    assert resync["oldest_event_id"] == kept
    assert "pruned" in resync["message"]
    assert [m["name"] for _, m in hub.transport.events("c1")] == ["new"]


async def test_a_resume_point_from_another_database_gets_resync_required(hub):
    hub.add_client("c1", DISPATCHER, None)
    await hub.join("c1", given(SOS_CHANNEL, await newest_id() + 1000))

    assert len(hub.transport.events("c1", "resync_required")) == 1


async def test_a_client_ahead_of_a_lagging_server_gets_no_event_twice():
    lagging = Hub(RecordingTransport(), poll_interval=60)
    await lagging.start()
    already_seen = [await raise_sos(f"seen elsewhere {i}") for i in range(2)]
    lagging.add_client("c1", DISPATCHER, None)
    await lagging.join("c1", given(SOS_CHANNEL, await newest_id()))  # from a server that was further on
    await lagging.catch_up()
    new = await raise_sos("new")
    await lagging.catch_up()

    delivered = [m["sos_id"] for _, m in lagging.transport.events("c1")]
    assert delivered == [new.pk]
    assert not set(delivered) & {sos.pk for sos in already_seen}


async def test_joining_a_room_twice_delivers_its_events_once(hub):
    hub.add_client("c1", DISPATCHER, None)
    await hub.join("c1", given(SOS_CHANNEL, None))
    await hub.join("c1", given(SOS_CHANNEL, 0))
    await raise_sos()
    await hub.catch_up()

    assert len(hub.transport.events("c1", "room_joined")) == 2
    assert len(hub.transport.events("c1")) == 1


async def test_a_client_that_left_gets_nothing_more(hub):
    hub.add_client("c1", DISPATCHER, None)
    await hub.join("c1", given(SOS_CHANNEL, None))
    hub.remove_client("c1")
    await raise_sos()
    await hub.catch_up()

    assert hub.transport.events("c1") == []
    assert hub.members.get(rooms.SOS_CHANNEL) is None


async def test_a_later_join_replays_only_what_other_rooms_have_not_delivered(hub):
    sos = await raise_sos()
    seen = await newest_id()
    hub.add_client("c1", DISPATCHER, None)
    await hub.join("c1", given(SOS_CHANNEL, seen))
    await acknowledge(sos)  # to sos_channel and the SOS room
    await add_point(sos)  # to the SOS room only
    await hub.catch_up()
    await hub.join("c1", given(JoinTarget(room=rooms.sos_room(sos.room_id), reply={}, sos_id=sos.pk), seen))

    assert [e for e, _ in hub.transport.events("c1")] == ["sos_updated", "location_history"]


async def test_a_multi_room_join_is_one_stream_in_id_order_whatever_the_loop_delivers_between_its_rooms(hub):
    sos = await raise_sos("first")
    seen = await newest_id()
    for i in range(3):
        await add_point(sos, 12.9 + i / 100)  # to the tracking channel (and the SOS room)
        await raise_sos(f"missed {i}")  # to sos_channel
    await hub.catch_up()
    hub.add_client("c1", DISPATCHER, seen)

    async def meanwhile():
        # After the first room's snapshot, before its replay is read: newer events in both rooms go live.
        await add_point(sos, 13.5)
        await raise_sos("during")
        await hub.catch_up()

    hub.between = meanwhile
    await hub.join("c1", given([SOS_CHANNEL, TRACKING], seen))
    await add_point(sos, 13.6)
    await hub.catch_up()

    expected = sorted(set(await ids_in(rooms.SOS_CHANNEL, seen))
                      | set(await ids_in(rooms.LOCATION_TRACKING_CHANNEL, seen)))
    assert hub.transport.ids("c1") == expected
    (answer,) = [m for _, m in hub.transport.events("c1", "rooms_joined")]
    assert [r["channel"] for r in answer["joined"]] == [rooms.SOS_CHANNEL, rooms.LOCATION_TRACKING_CHANNEL]
    assert answer["refused"] == []


async def test_single_room_joins_that_arrive_one_after_another_are_two_streams(hub):
    """What the multi-room join is for: each single join ends its own hold, so a later room's replay of
    older events arrives after newer ones (the highest event_id seen is then not a safe resume point)."""
    sos = await raise_sos("first")
    seen = await newest_id()
    for i in range(2):
        await add_point(sos, 12.9 + i / 100)
        await raise_sos(f"missed {i}")
    await hub.catch_up()
    hub.add_client("c1", DISPATCHER, seen)

    await hub.join("c1", given(SOS_CHANNEL, seen))
    await hub.join("c1", given(TRACKING, seen))

    assert not is_strictly_increasing(hub.transport.ids("c1"))


async def test_a_resume_that_cannot_be_replayed_gets_one_resync_required_for_all_its_rooms(hub):
    seen = await newest_id()
    for i in range(3):
        await raise_sos(f"old {i}")
    await sync_to_async(outbox_prune)(retention_hours=0)
    await hub.catch_up()
    hub.add_client("c1", DISPATCHER, seen)
    incidents = JoinTarget(room=rooms.INCIDENTS_CHANNEL, reply={"channel": rooms.INCIDENTS_CHANNEL})
    await hub.join("c1", given([SOS_CHANNEL, TRACKING, incidents], seen))
    # The same resume point again, in the single-room joins of the older contract.
    await hub.join("c1", given(SOS_CHANNEL, seen))

    assert len(hub.transport.events("c1", "resync_required")) == 1


async def test_the_room_index_follows_the_clients_through_joins_refusals_failures_and_disconnects(hub):
    """`Hub.members` is derived from each client's rooms: after every kind of join and leave it equals the
    index rebuilt from the clients, so the loop sends to exactly the clients that joined."""

    def index_matches():
        assert {room: sids for room, sids in hub.members.items()} == hub.memberships()

    sos_room = JoinTarget(room=rooms.sos_room(str((await raise_sos()).room_id)), reply={"room_id": "x"}, sos_id=None)
    await hub.catch_up()  # the loop is past that SOS: the joins below start after it
    for sid in ("c1", "c2", "c3"):
        hub.add_client(sid, DISPATCHER, None)
    await hub.join("c1", given([SOS_CHANNEL, TRACKING], None))
    await hub.join("c2", given(SOS_CHANNEL, None))
    index_matches()
    assert hub.members[rooms.SOS_CHANNEL] == {"c1", "c2"}

    await hub.join("c1", given(SOS_CHANNEL, 0))  # a duplicate join
    index_matches()

    async def refuse(principal):
        raise JoinRefused("Not for you.")

    await hub.join("c3", refuse)  # the whole message refused
    await hub.join("c3", lambda principal: _plan(refused=[{"channel": "x", "message": "no"}]))  # each room refused
    index_matches()
    assert "c3" not in set().union(*hub.members.values())

    async def fail():
        raise RuntimeError("the database is away")

    hub.between = fail  # the join's replay cannot be read: the room is abandoned
    await hub.join("c3", given(sos_room, await newest_id()))
    index_matches()
    assert sos_room.room not in hub.members

    async def leave():
        hub.remove_client("c2")

    hub.between = leave  # a disconnect while a join is in progress
    await hub.join("c2", given(sos_room, await newest_id()))
    index_matches()
    assert "c2" not in set().union(*hub.members.values())

    hub.remove_client("c1")
    index_matches()
    assert hub.members == {}
    # The loop (catch_up, awaited here) sends nothing more to the clients that left.
    await hub.catch_up()
    sent_before = {sid: len(hub.transport.sent[sid]) for sid in ("c1", "c2")}
    await raise_sos()
    await hub.catch_up()
    assert {sid: len(hub.transport.sent[sid]) for sid in ("c1", "c2")} == sent_before


async def _plan(**fields):
    return JoinPlan(rooms=[], **fields)
