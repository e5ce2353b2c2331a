"""Which Socket.IO rooms a connection may join, and what joining each one means."""

import uuid
from dataclasses import dataclass

from accounts.models import Unit
from common.actors import Actor
from privacy.services import sos_trail_read_record
from realtime import rooms
from sos.permissions import may_see, sees_everything
from sos.selectors import sos_room_owner, sos_trail


class JoinRefused(Exception):
    """The join is not allowed (or names nothing); its message goes back to the client as `error`."""


@dataclass(frozen=True)
class JoinTarget:
    room: str
    reply: dict  # the fields of `room_joined` that name what was joined
    sos_id: int | None = None  # set for an SOS room: its trail is sent on a join without a resume point


CHANNELS = {
    "sos_channel": rooms.SOS_CHANNEL,
    "location_tracking_channel": rooms.LOCATION_TRACKING_CHANNEL,
    "incidents_channel": rooms.INCIDENTS_CHANNEL,
    "officer_tracking_channel": rooms.OFFICER_TRACKING_CHANNEL,
}

# The single-room join events and the room type each one joins.
SINGLE_ROOM_JOINS = {
    "join_sos_room": "sos",
    "join_officer_room": "unit",
    "join_sos_channel": "sos_channel",
    "join_location_tracking_channel": "location_tracking_channel",
    "join_incidents_channel": "incidents_channel",
    "join_officer_update": "officer_tracking_channel",
}

MAX_ROOMS_PER_JOIN = 20


def target_for(actor: Actor, spec) -> JoinTarget:
    """The room one `{type: ...}` entry of a join names, if `actor` may join it."""
    if not isinstance(spec, dict):
        raise JoinRefused("Each room must be an object with a type.")
    kind = spec.get("type")
    if kind == "sos":
        return sos_room_target(actor, spec)
    if kind == "unit":
        return unit_room_target(actor, spec)
    if kind in CHANNELS:
        return channel_target(actor, kind)
    raise JoinRefused(f"Unknown room type {kind!r}; use sos, unit or one of {', '.join(CHANNELS)}.")


def describe(spec) -> dict:
    """The fields that name a room in a join's answer (what the client asked for, as it asked)."""
    if not isinstance(spec, dict):
        return {"type": None}
    return {key: spec[key] for key in ("type", "room_id", "unit_number") if key in spec and spec[key] is not None}


def joined_message(target: JoinTarget) -> str:
    if "room_id" in target.reply:
        return f"Joined SOS room {target.reply['room_id']}"
    if "unit_number" in target.reply:
        return f"Joined unit room {target.reply['unit_number']}"
    return f"Joined {target.reply['channel']}"


def channel_target(actor: Actor, channel: str) -> JoinTarget:
    if not actor.is_responder:
        raise JoinRefused(f"Only officers and dispatchers may join {channel}.")
    if channel == "location_tracking_channel" and not sees_everything(actor):
        # Every unit's and every victim's position is the dispatchers' picture; officers follow their unit room.
        raise JoinRefused("Only dispatchers may join location_tracking_channel; officers join their unit's room.")
    return JoinTarget(room=CHANNELS[channel], reply={"type": channel, "channel": CHANNELS[channel]})


def unit_room_target(actor: Actor, data: dict) -> JoinTarget:
    """Officers follow their own unit; dispatchers and admins may follow any unit."""
    unit_number = str(data.get("unit_number") or "").strip()
    if not unit_number:
        raise JoinRefused("unit_number is required.")
    if not actor.is_responder:
        raise JoinRefused("Only officers and dispatchers may join a unit room.")
    if actor.is_officer and actor.unit_number != unit_number:
        raise JoinRefused("Officers may only join their own unit's room.")
    if not Unit.objects.filter(unit_number=unit_number).exists():
        raise JoinRefused(f"Unknown unit {unit_number!r}.")
    return JoinTarget(room=rooms.unit_room(unit_number), reply={"type": "unit", "unit_number": unit_number})


def sos_room_target(actor: Actor, data: dict) -> JoinTarget:
    """Responders may follow any SOS; its owner (account or access token) only their own."""
    try:
        room_id = str(uuid.UUID(str(data.get("room_id") or "")))
    except ValueError:
        raise JoinRefused("room_id must be the SOS's room_id (a UUID).") from None
    sos = sos_room_owner(room_id=room_id)
    owns = sos is not None and actor.owns_sos(owner_id=sos["owner_id"], access_token_hash=sos["access_token_hash"])
    in_scope = sos is not None and may_see(actor, is_open=sos["is_open"], assigned_unit_ids=sos["unit_ids"])
    if not (owns or in_scope or (sos is None and actor.is_responder)):
        # The same answer for a room that does not exist, so room ids cannot be probed.
        raise JoinRefused("You may only join the room of your own SOS.")
    if sos is None:
        raise JoinRefused("Unknown SOS room.")
    return JoinTarget(room=rooms.sos_room(room_id), reply={"type": "sos", "room_id": room_id}, sos_id=sos["id"])


def read_trail(sos_id: int, actor: Actor | None, address: str | None):
    """The trail a join of an SOS room sends, and the record of who read it (privacy's view audit)."""
    trail = sos_trail(sos_id=sos_id)
    if actor is not None:
        sos_trail_read_record(sos_id=sos_id, actor=actor, ip_address=address)
    return trail
