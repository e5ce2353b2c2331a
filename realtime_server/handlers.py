"""The Socket.IO events clients may send: connect (with `auth`), the joins of the NaariKavach contract, nothing else."""

import asyncio

import socketio

from realtime_server import joins
from realtime_server.joins import JoinRefused
from realtime_server.auth import AuthenticationFailed, authenticate_session, parse_last_event_id
from realtime_server.db import run_db
from realtime_server.hub import Hub
from realtime_server.sessions import SessionGuard


def register(sio: socketio.AsyncServer, hub: Hub, guard: SessionGuard | None = None) -> None:
    greetings: set[asyncio.Task] = set()

    @sio.event
    async def connect(sid, environ, auth=None):
        try:
            session = await run_db(authenticate_session, auth)
            last_event_id = parse_last_event_id(auth.get("last_event_id"))
        except (AuthenticationFailed, ValueError) as exc:
            raise socketio.exceptions.ConnectionRefusedError(str(exc)) from None
        actor = session.actor
        hub.add_client(sid, actor, last_event_id)
        if guard is not None:
            guard.watch(sid, session.token_digest)
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

    @sio.event
    async def disconnect(sid, reason=None):
        hub.remove_client(sid)
        if guard is not None:
            guard.forget(sid)

    @sio.event
    async def join_sos_room(sid, data=None):
        await _join(sid, data, lambda actor, payload: run_db(joins.sos_room_target, actor, payload),
                    lambda target: f"Joined SOS room {target.reply['room_id']}")

    @sio.event
    async def join_officer_room(sid, data=None):
        await _join(sid, data, lambda actor, payload: run_db(joins.unit_room_target, actor, payload),
                    lambda target: f"Joined unit room {target.reply['unit_number']}")

    def _channel_handler(channel):
        async def join_channel(sid, data=None):
            async def allow(actor, payload):
                return joins.channel_target(actor, channel)

            await _join(sid, data, allow, lambda target: f"Joined {channel}")

        return join_channel

    # join_sos_channel, join_location_tracking_channel, join_incidents_channel.
    for channel in joins.CHANNELS:
        sio.on(f"join_{channel}", _channel_handler(channel))

    @sio.on("*")
    async def anything_else(event, sid, *args):
        # Only the platform's services publish events; a client sending one (new_sos, sos_updated...) changes nothing.
        await hub.send_control(sid, "error", {"message": f"Unknown event {event!r}: clients cannot send it."})

    async def _join(sid, data, allow, describe):
        async def resolve(actor):
            if data is not None and not isinstance(data, dict):
                raise JoinRefused("The join payload must be an object.")
            payload = data or {}
            try:
                last_event_id = parse_last_event_id(payload.get("last_event_id"))
            except ValueError as exc:
                raise JoinRefused(str(exc)) from None
            target = await allow(actor, payload)
            if last_event_id is None:
                last_event_id = hub.clients[sid].auth_last_event_id
            return target, last_event_id, describe(target)

        await hub.join(sid, resolve)
