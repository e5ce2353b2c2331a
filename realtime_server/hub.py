"""Delivery: follows the outbox in id order and sends each event exactly once to every client owed it.

Every realtime process runs one Hub. Its loop reads outbox rows after its cursor (woken by a nudge or
a NOTIFY, and at a short interval regardless) and dispatches them, one at a time, under `lock`.

A client is owed an event when one of the event's rooms is a room the client has joined with a start
below the event's id. A join picks its start from the client's resume point (`last_event_id`): the
room's events after it are replayed from the database; without one, the client starts at the current
cursor (for an SOS room: at the snapshot its trail was read in).

The race between a replay query and the live loop is closed by *holding* the client: from the moment
its first join begins until its last queued join completes, the loop does not send to the client but
buffers every event for it. The replayed rows and the buffer are then merged, deduplicated by id and
sent in id order.

One join may name several rooms (the `join {rooms: [...]}` message): they are joined in one hold, so
the client sees one stream in increasing id order, in which the highest `event_id` seen is always a
safe point to resume from. Single-room joins sent one after another are separate messages, each run
as its own task: whether the second arrives before the first has ended its hold is a matter of timing,
so a client that needs several rooms in one ordered stream must ask for them in one message.
"""

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from common.actors import Actor
from realtime import selectors
from realtime.selectors import StoredEvent
from realtime_server.db import run_db
from realtime_server.joins import JoinRefused, JoinTarget
from sos.selectors import sos_trail

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JoinPlan:
    """What a join's permission checks allowed: the rooms (each with its `room_joined` message), what they
    refused (answered, never joined), and the resume point to replay from."""

    rooms: list[tuple[JoinTarget, str]]
    refused: list[dict] = field(default_factory=list)
    last_event_id: int | None = None
    # True for the multi-room `join` message: one `rooms_joined` answer instead of room_joined/error per room.
    combined: bool = False


class Transport(Protocol):
    async def send(self, event: str, message: dict, to: list[str]) -> None: ...


@dataclass
class Hold:
    """A client's joins in progress: what it had before, and everything to send once they complete."""

    rooms: dict[str, int]  # the client's rooms (and their starts) before the hold
    pos: int  # the highest id sent to the client before the hold
    floor: int  # no resume point may be above this while the hold lasts (see Client.resume_point)
    pending: dict[int, StoredEvent] = field(default_factory=dict)  # replayed and buffered events, by id
    trails: list[StoredEvent] = field(default_factory=list)
    resync: dict | None = None  # one resync_required per hold, however many of its rooms could not replay

    def sent_before(self, event: StoredEvent) -> bool:
        return event.id <= self.pos and any(event.id > self.rooms[r] for r in event.rooms if r in self.rooms)


@dataclass
class Client:
    sid: str
    actor: Actor
    auth_last_event_id: int | None = None
    credentials: Any = None  # realtime_server.compat.SocketCredentials: signs the REST calls it makes through us
    address: str | None = None  # where it connected from (for the view audit of the trails it reads)
    rooms: dict[str, int] = field(default_factory=dict)  # joined room -> start: owed its events with id > start
    joining: set[str] = field(default_factory=set)  # rooms whose join is in progress
    pos: int = 0  # the highest event id sent to this client
    queued_joins: int = 0
    hold: Hold | None = None
    resynced_from: set[int] = field(default_factory=set)  # resume points already answered with resync_required
    join_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    connected: bool = True

    def owes(self, event: StoredEvent) -> bool:
        return any(event.id > self.rooms[r] for r in event.rooms if r in self.rooms)

    def follows(self, event: StoredEvent) -> bool:
        return any(r in self.rooms or r in self.joining for r in event.rooms)

    def resume_point(self, cursor: int) -> int:
        """An event id this client may resume from without missing anything: every owed event up to it was sent.

        Control messages carry it as their `event_id`, so that a client that has received no event yet
        (a quiet dashboard) still has a point to resume from after a drop.
        """
        if self.hold is not None:
            return self.hold.floor
        if not self.rooms and self.auth_last_event_id is not None:
            # Its joins have not started: it holds everything up to its own resume point, no more.
            return min(cursor, self.auth_last_event_id)
        return cursor


class Hub:
    def __init__(self, transport: Transport, *, poll_interval: float, batch_size: int = 500,
                 replay_limit: int = 10_000, cursor_wait: float = 10.0, read_trail=None):
        self.transport = transport
        # (sos_id, actor, address) -> Trail, run in the database thread: the app passes the audited read
        # (realtime_server.joins.read_trail); unit tests may keep the plain one.
        self.read_trail = read_trail or (lambda sos_id, actor, address: sos_trail(sos_id=sos_id))
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.replay_limit = replay_limit
        self.cursor_wait = cursor_wait
        self.cursor = 0
        self.clients: dict[str, Client] = {}
        # An index of the clients' rooms (joined or joining) for the loop: room -> sids. The clients are the
        # source of truth; only _reindex writes here, deriving a room's entry for one client from that client.
        self.members: dict[str, set[str]] = defaultdict(set)
        # Held while events are dispatched and while a join begins or completes, so neither sees the other half-done.
        self.lock = asyncio.Lock()
        self.delivered = 0
        # Counters for the operator (/metrics): rooms joined and refused, events replayed to resuming clients,
        # resync_required answers (a resume point too old to replay), and how long the last dispatch lagged.
        self.joins = {"joined": 0, "refused": 0}
        self.replayed = 0
        self.resyncs = 0
        self.dispatch_lag_s = 0.0
        # When reading the outbox began to fail (None while it works): /healthz turns 503 when it lasts.
        self.failing_since: float | None = None
        self._wake = asyncio.Event()
        self._moved = asyncio.Condition()
        self._reading = asyncio.Lock()  # one reader of the tail at a time, or two would dispatch the same rows

    # The live loop ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start at the newest event: clients that were away catch up by replay, not by the live loop."""
        delay = 0.5
        while True:
            try:
                self.cursor = await run_db(selectors.outbox_newest_id)
                return
            except Exception as exc:
                logger.warning("Outbox not readable yet (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    def nudge(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.catch_up()
                failures = 0
                self.failing_since = None
            except Exception:
                failures += 1
                if self.failing_since is None:
                    self.failing_since = time.monotonic()
                logger.exception("Reading the outbox failed; retrying")
                await asyncio.sleep(min(0.2 * 2**failures, 5))

    async def catch_up(self) -> None:
        """Dispatch every committed event after the cursor."""
        async with self._reading:
            while True:
                events = await run_db(selectors.outbox_after, after_id=self.cursor, limit=self.batch_size)
                if events:
                    async with self.lock:
                        for event in events:
                            await self._dispatch(event)
                    async with self._moved:
                        self._moved.notify_all()
                if len(events) < self.batch_size:
                    return

    async def _dispatch(self, event: StoredEvent) -> None:
        recipients = []
        for sid in set().union(*(self.members.get(room, ()) for room in event.rooms)):
            client = self.clients.get(sid)
            if client is None:
                continue
            if client.hold is not None:
                if client.follows(event):
                    client.hold.pending[event.id] = event
            elif client.owes(event):
                recipients.append(sid)
                client.pos = event.id
        if recipients:
            await self.transport.send(event.name, event.message, recipients)
            self.delivered += len(recipients)
        self.cursor = event.id

    async def wait_for_cursor(self, event_id: int) -> None:
        self.nudge()
        async with self._moved:
            await asyncio.wait_for(self._moved.wait_for(lambda: self.cursor >= event_id), self.cursor_wait)

    # Clients ---------------------------------------------------------------------------------------

    def add_client(self, sid: str, actor: Actor, last_event_id: int | None, credentials: Any = None,
                   address: str | None = None) -> Client:
        client = Client(sid=sid, actor=actor, auth_last_event_id=last_event_id, credentials=credentials,
                        address=address)
        self.clients[sid] = client
        return client

    def remove_client(self, sid: str) -> None:
        client = self.clients.pop(sid, None)
        if client is None:
            return
        client.connected = False
        for room in set(client.rooms) | client.joining:
            self._reindex(client, room)

    def _reindex(self, client: Client, room: str) -> None:
        """Bring `members[room]` in line with the client: in it while connected and joined or joining the room."""
        if client.connected and self.clients.get(client.sid) is client and (
                room in client.rooms or room in client.joining):
            self.members[room].add(client.sid)
            return
        members = self.members.get(room)
        if members is not None:
            members.discard(client.sid)
            if not members:
                del self.members[room]

    def memberships(self) -> dict[str, set[str]]:
        """The index `members` as it must be, derived from the clients from scratch (for checks and tests)."""
        derived: dict[str, set[str]] = defaultdict(set)
        for client in self.clients.values():
            for room in set(client.rooms) | client.joining:
                derived[room].add(client.sid)
        return dict(derived)

    async def send_control(self, sid: str, event: str, message: dict) -> None:
        """Answer a client (connection_established, error...), with its current resume point as `event_id`."""
        async with self.lock:
            client = self.clients.get(sid)
            if client is not None:
                await self.transport.send(event, {**message, "event_id": client.resume_point(self.cursor)}, [sid])

    # Joins -----------------------------------------------------------------------------------------

    async def join(self, sid: str, resolve: Callable[[Actor], Awaitable[JoinPlan]]) -> None:
        """Join the rooms `resolve` allows, in one hold: replay or trail first, then one stream in id order.

        `resolve` checks the join against the client's actor: it lists the rooms allowed and refused, or
        raises JoinRefused when the whole message is unusable (answered `error`).
        """
        client = self.clients.get(sid)
        if client is None:
            return
        # Counted before anything is awaited (the permission check included), so that of several joins
        # running at once, the first to finish knows that others follow it and does not end the hold.
        client.queued_joins += 1
        try:
            try:
                plan = await resolve(client.actor)
            except JoinRefused as exc:
                self.joins["refused"] += 1
                await self.send_control(sid, "error", {"message": str(exc)})
                return
            async with client.join_lock:
                await self._join_rooms(client, plan)
        finally:
            async with self.lock:
                client.queued_joins -= 1
                if client.queued_joins == 0 and client.hold is not None and client.connected:
                    await self._flush(client)

    async def _join_rooms(self, client: Client, plan: JoinPlan) -> None:
        joined, refused = [], list(plan.refused)
        for target, message in plan.rooms:
            failure = await self._join_room(client, target, plan.last_event_id)
            if failure is None:
                joined.append({**target.reply, "message": message})
            else:
                refused.append({**target.reply, "message": failure})
        self.joins["joined"] += len(joined)
        self.joins["refused"] += len(refused)
        async with self.lock:
            if not client.connected:
                return
            # The hold's floor: everything owed up to it was sent, whatever the rooms joined in it start from.
            event_id = client.hold.floor if client.hold is not None else client.resume_point(self.cursor)
            if plan.combined:
                answers = [("rooms_joined", {"joined": joined, "refused": refused, "event_id": event_id})]
            else:
                answers = [("room_joined", {**reply, "event_id": event_id}) for reply in joined]
                answers += [("error", {"message": r["message"], "event_id": event_id}) for r in refused]
            for name, answer in answers:
                await self.transport.send(name, answer, [client.sid])

    async def _join_room(self, client: Client, target: JoinTarget, last_event_id: int | None) -> str | None:
        """Join one room inside the client's hold; returns why it failed, or None."""
        room = target.room
        async with self.lock:
            if client.hold is None:
                floor = self.cursor
                if not client.rooms and client.auth_last_event_id is not None:
                    floor = min(floor, client.auth_last_event_id)
                client.hold = Hold(rooms=dict(client.rooms), pos=client.pos, floor=floor)
            snapshot = self.cursor
            rejoin = room in client.rooms or room in client.joining
            if not rejoin:
                if last_event_id is not None:
                    client.hold.floor = min(client.hold.floor, last_event_id)
                client.joining.add(room)
                self._reindex(client, room)
        try:
            start, replayed, trail, resync = (snapshot, [], None, None) if rejoin else await self._catch_up_room(
                target, last_event_id, snapshot, client
            )
        except Exception:
            logger.exception("Join of %s failed", room)
            async with self.lock:
                self._abandon(client, room)
            return f"Could not join {room} now; try again."
        async with self.lock:
            if not client.connected:
                return None
            if not rejoin:
                client.joining.discard(room)
                client.rooms[room] = start
                self._reindex(client, room)
                client.hold.floor = min(client.hold.floor, start)
                self.replayed += len(replayed)
                for event in replayed:
                    client.hold.pending[event.id] = event
                if trail is not None:
                    client.hold.trails.append(trail)
            if resync is not None and last_event_id not in client.resynced_from:
                # Once per resume point: every room of a resume that cannot be replayed says the same thing.
                client.resynced_from.add(last_event_id)
                self.resyncs += 1
                client.hold.resync = client.hold.resync or resync
        return None

    def _abandon(self, client: Client, room: str) -> None:
        client.joining.discard(room)
        self._reindex(client, room)

    async def _catch_up_room(self, target: JoinTarget, last_event_id: int | None, snapshot: int,
                             client: Client | None = None):
        """Where the client starts in the room, what to replay up to `snapshot`, its trail, or why it must resync."""
        resync = None
        if last_event_id is not None:
            replayed = []
            if last_event_id < snapshot:
                replayed = await run_db(
                    selectors.outbox_replay, room=target.room, after_id=last_event_id, upto_id=snapshot,
                    limit=self.replay_limit + 1,
                )
            # Read after the replay: a prune that ran before it shows here, one that ran after it took nothing we need.
            bounds = await run_db(selectors.outbox_bounds)
            resync = self._resync_reason(last_event_id, bounds, len(replayed))
            if resync is None:
                return last_event_id, replayed, None, None
        if target.sos_id is None:
            return snapshot, [], None, resync
        trail = await run_db(self.read_trail, target.sos_id, client.actor if client else None,
                             client.address if client else None)
        # Deliver nothing past the trail's snapshot before the loop has dispatched up to it, so the trail's
        # event_id is a safe resume point for every room of the client, not only this one.
        await self.wait_for_cursor(trail.as_of_event_id)
        trail_event = StoredEvent(
            id=trail.as_of_event_id,
            name="location_history",
            rooms=frozenset({target.room}),
            # No top-level sos_id: clients of the NaariKavach contract treat a location_history carrying one
            # as a single live point. The trail is the `updates` list, as that contract named it.
            message={"room_id": trail.room_id, "updates": trail.points, "event_id": trail.as_of_event_id},
        )
        return trail.as_of_event_id, [], trail_event, resync

    def _resync_reason(self, last_event_id: int, bounds: selectors.OutboxBounds, replayed: int) -> dict | None:
        oldest, newest = bounds.oldest_id, bounds.newest_id or 0
        if oldest is not None and last_event_id < oldest - 1:
            message = f"Events after {last_event_id} have been pruned; refetch over REST."
        elif last_event_id > newest:
            message = f"Event {last_event_id} does not exist here; refetch over REST."
        elif replayed > self.replay_limit:
            message = f"More than {self.replay_limit} events were missed; refetch over REST."
        else:
            return None
        return {"message": message, "oldest_event_id": oldest}

    async def _flush(self, client: Client) -> None:
        """End the hold: send the replayed, buffered and trail events the client is owed, in id order."""
        hold, client.hold = client.hold, None
        # A trail sorts before a real event with the same id: that event is after the trail in the stream.
        items = sorted([(e.id, 0, e) for e in hold.trails] + [(e.id, 1, e) for e in hold.pending.values()],
                       key=lambda item: item[:2])
        for _, is_event, event in items:
            if is_event and (not client.owes(event) or hold.sent_before(event)):
                continue
            await self.transport.send(event.name, event.message, [client.sid])
            self.delivered += 1
            client.pos = max(client.pos, event.id)
        # After the flush, so that its event_id is a point the client has everything up to: a client that
        # refetches over REST replaces its resume point with it (its old one is stale, or from elsewhere).
        if hold.resync is not None:
            await self.transport.send("resync_required", {**hold.resync, "event_id": self.cursor}, [client.sid])

    # Introspection ---------------------------------------------------------------------------------

    def stats(self) -> dict:
        return {"cursor": self.cursor, "clients": len(self.clients), "delivered": self.delivered}
