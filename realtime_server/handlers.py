"""The Socket.IO events clients may send: connect (with `auth`), the joins, and the compatibility events.

`join {rooms: [...], last_event_id?}` joins several rooms in one ordered stream; the single-room
`join_*` events of the NaariKavach contract are joins of one room each. The other events the seeds'
clients send (positions, SOS creation over the socket) are in `realtime_server/compat.py`.
"""

import asyncio
from types import SimpleNamespace

import socketio

from common.ratelimit import client_address
from realtime_server import compat, joins, units
from realtime_server.auth import AuthenticationFailed, authenticate_session, parse_last_event_id
from realtime_server.capacity import Capacity, MemoryReturner
from realtime_server.db import run_db
from realtime_server.hub import Hub, JoinPlan
from realtime_server.joins import JoinRefused
from realtime_server.sessions import SessionGuard


def register(sio: socketio.AsyncServer, hub: Hub, capacity: Capacity, guard: SessionGuard | None = None) -> None:
    greetings: set[asyncio.Task] = set()

    @sio.event
    async def connect(sid, environ, auth=None):
        if not capacity.admit(len(hub.clients)):
            # `retry_after` tells clients this refusal, unlike a bad credential, is worth retrying.
            raise socketio.exceptions.ConnectionRefusedError(
                "The realtime server is at capacity; try again shortly (or another server).", {"retry_after": 5})
        try:
            session = await run_db(authenticate_session, auth)
            last_event_id = parse_last_event_id(auth.get("last_event_id"))
        except (AuthenticationFailed, ValueError) as exc:
            raise socketio.exceptions.ConnectionRefusedError(str(exc)) from None
        actor = session.actor
        hub.add_client(sid, actor, last_event_id, compat.credentials_from(auth, environ),
                       address=client_address(SimpleNamespace(META=environ)))
        if guard is not None:
            guard.watch(sid, session.token_digest)
        memory.clients_changed(len(hub.clients))
        # Sent once the connection is accepted: a message sent from inside this handler would reach
        # the client before the acceptance itself.
        task = asyncio.create_task(_greet(sid, actor.label))
        greetings.add(task)
        task.add_done_callback(greetings.discard)

    async def _greet(sid, label):
        for _ in range(200):
            if sio.manager.is_connected(sid, "/"):
                break
            await asyncio.sleep(0.005)
        await hub.send_control(sid, "connection_established", {"message": f"Connected to NaariKavach as {label}."})

    # Engine.IO lets go of a departed client's socket within a ping interval (its ping task) or a ping timeout
    # (its service task's round of the sockets): memory is given back again once that has passed.
    memory = hub.memory = MemoryReturner(linger=max(sio.eio.ping_interval, sio.eio.ping_timeout) + 2)

    @sio.event
    async def disconnect(sid, reason=None):
        hub.remove_client(sid)
        if guard is not None:
            guard.forget(sid)
        memory.clients_changed(len(hub.clients))

    @sio.event
    async def join(sid, data=None):
        """`join {rooms: [{type: ...}, ...], last_event_id?}`: one hold, one answer, one stream in id order."""

        async def resolve(actor):
            payload = _payload(data)
            specs = payload.get("rooms")
            if not isinstance(specs, list) or not specs:
                raise JoinRefused("rooms must be a non-empty list of {type: ...} objects.")
            if len(specs) > joins.MAX_ROOMS_PER_JOIN:
                raise JoinRefused(f"At most {joins.MAX_ROOMS_PER_JOIN} rooms per join.")
            allowed, refused = [], []
            for spec in specs:
                try:
                    target = await run_db(joins.target_for, actor, spec)
                except JoinRefused as exc:
                    refused.append({**joins.describe(spec), "message": str(exc)})
                    continue
                if target.room not in {t.room for t, _ in allowed}:
                    allowed.append((target, joins.joined_message(target)))
            return JoinPlan(rooms=allowed, refused=refused, last_event_id=_resume_point(sid, payload), combined=True)

        await hub.join(sid, resolve)

    def _single_join(kind: str):
        async def join_one(sid, data=None):
            async def resolve(actor):
                payload = _payload(data)
                target = await run_db(joins.target_for, actor, {**payload, "type": kind})
                return JoinPlan(rooms=[(target, joins.joined_message(target))], last_event_id=_resume_point(sid, payload))

            await hub.join(sid, resolve)

        return join_one

    # The NaariKavach contract's joins, one room each (join_officer_update is its "Track All Units").
    for event, kind in joins.SINGLE_ROOM_JOINS.items():
        sio.on(event, _single_join(kind))

    compat.register(sio, hub)
    units.register(sio, hub)

    @sio.on("*")
    async def anything_else(event, sid, *args):
        # Only the platform's services publish events; a client sending one (new_sos, sos_updated...) changes nothing.
        await hub.send_control(sid, "error", {"message": f"Unknown event {event!r}: clients cannot send it."})

    def _payload(data) -> dict:
        if data is not None and not isinstance(data, dict):
            raise JoinRefused("The join payload must be an object.")
        return data or {}

    def _resume_point(sid, payload) -> int | None:
        try:
            last_event_id = parse_last_event_id(payload.get("last_event_id"))
        except ValueError as exc:
            raise JoinRefused(str(exc)) from None
        if last_event_id is None:
            client = hub.clients.get(sid)
            last_event_id = client.auth_last_event_id if client is not None else None
        return last_event_id
