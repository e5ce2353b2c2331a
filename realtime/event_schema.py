"""Every outbox event: its name, the rooms it goes to and its payload fields, declared once.

`publish()` and `publish_many()` check each payload against this schema when `EVENT_SCHEMA_STRICT` is on
(the tests turn it on, so every publish call site a test drives is checked); in production an event
that does not match is logged and still delivered, since a delivered alert with an odd field beats a
lost one. `socketio_testing_guide.md` lists the events from `markdown_table()`, and a test keeps the two
the same. Every event also carries `event_id` (added by the realtime server on delivery).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Field types: a Python type, or a tuple of them (None allowed as type(None)).
NoneType = type(None)
NUMBER = (int, float)
OPTIONAL_NUMBER = (int, float, NoneType)
OPTIONAL_STR = (str, NoneType)


class EventSchemaError(ValueError):
    """A payload that does not match its event's declaration."""


@dataclass(frozen=True)
class EventType:
    rooms: str  # where it goes, in words (for the guide)
    fields: dict[str, type | tuple]  # always present
    optional: dict[str, type | tuple] = field(default_factory=dict)  # present for some actions only
    doc: str = ""

    def field_names(self) -> list[str]:
        return [*self.fields, *self.optional]


_POINT = {"latitude": NUMBER, "longitude": NUMBER, "accuracy_m": OPTIONAL_NUMBER, "timestamp": str}
_SOS_POINT = {"sos_id": int, "room_id": str, **_POINT}
_INCIDENT_FIELDS = {
    "incident_id": str, "kind": str, "status": str, "priority": str, "description": str, "beacon": dict,
    "first_signal_at": str, "last_signal_at": str, "signal_count": int, "assigned_to": OPTIONAL_STR,
}
_INCIDENT = {**_INCIDENT_FIELDS, "action": str, "by": str, "timestamp": str}
_ESCALATED = {
    "level": int, "label": str, "reason": str, "actions": list, "realert": bool, "status_since": str,
    "seconds_in_status": int, "timestamp": str,
}
_INCIDENT_DETAILS = {"note": str, "officer": str, "unit_number": OPTIONAL_STR, "resolution_note": str,
                     "from_priority": str, "to_priority": str}

EVENTS: dict[str, EventType] = {
    "new_sos": EventType(
        rooms="`sos_channel`",
        fields={"sos_id": int, "room_id": str, "name": str, "sos_type": int, "status": str,
                "latitude": OPTIONAL_NUMBER, "longitude": OPTIONAL_NUMBER, "accuracy_m": OPTIONAL_NUMBER,
                "location_pending": bool, "suspected_flood": bool, "flood_source": OPTIONAL_STR, "phone": str,
                "last_known": (dict, NoneType), "created_at": str},
        doc="an SOS was raised (without a position yet: `location_pending`, null coordinates, perhaps `last_known`)",
    ),
    "location_history": EventType(
        rooms="the SOS room", fields=_SOS_POINT, doc="one new point of the SOS's trail",
    ),
    "unit_location_update": EventType(
        rooms="the unit room",
        fields=_POINT,
        optional={"sos_id": int, "room_id": str, "kind": str, "unit_number": str, "assigned_sos_id": (int, NoneType)},
        doc="a point of an SOS the unit is assigned to (`sos_id`, `room_id`), or the unit's own position "
            "(`kind: \"unit\"`, `unit_number`, `assigned_sos_id`; never `sos_id`)",
    ),
    "location_tracking_update": EventType(
        rooms="`location_tracking_channel`", fields={"kind": str, "unit_number": OPTIONAL_STR, **_POINT},
        optional={"sos_id": int, "assigned_sos_id": (int, NoneType)},
        doc="every SOS point (`kind: \"sos\"`, `sos_id`) and unit position (`kind: \"unit\"`, `assigned_sos_id`)",
    ),
    "unit_loc": EventType(
        rooms="`officer_tracking_channel`",
        fields={"unit_id": str, "latitude": NUMBER, "longitude": NUMBER, "timestamp": str},
        doc="a unit's position as the NaariKavach dashboard reads it (`unit_id` is the unit number)",
    ),
    "sos_updated": EventType(
        rooms="`sos_channel`, the SOS room, its units",
        fields={"sos_id": int, "room_id": str, "status": str, "action": str, "by": str, "timestamp": str},
        optional={"officer_name": str, "unit_number": str, "note": str, "images": int, "location_pending": bool,
                  "latitude": NUMBER, "longitude": NUMBER, "accuracy_m": OPTIONAL_NUMBER, "duress": bool,
                  "duress_at": str},
        doc="`action`: `acknowledged`, `assigned` (with `officer_name`, `unit_number`), `on_scene` (with "
            "`unit_number` when given), `located` (the first fix of a pending SOS), `resolved`, `cancelled` (with "
            "`note` when given), `cancelled_on_behalf` (a responder, with `note`), `unassigned` (with `officer_name`, "
            "`unit_number`, `note` when given), `cancelled_under_duress` (responders only: it stays open), `images_added` "
            "(with `images`, how many)",
    ),
    "sos_resolved": EventType(
        rooms="as `sos_updated`", fields={"sos_id": int, "room_id": str},
        doc="right after the `sos_updated` of a resolve (the NaariKavach police app's event)",
    ),
    "sos_escalated": EventType(
        rooms="`sos_channel`",
        fields={"sos_id": int, "room_id": str, "status": str, "sos_type": int, **_ESCALATED},
        doc="an SOS waited too long in its status (response/): re-alert, louder",
    ),
    "unit_status_changed": EventType(
        rooms="the unit room, `sos_channel`, `incidents_channel`",
        fields={"unit_number": str, "status": str, "from_status": str, "reason": str, "by": str,
                "overridden": bool, "timestamp": str},
        doc="a unit's status (available, dispatched, en_route, on_scene, off_duty) changed",
    ),
    "incident_created": EventType(
        rooms="`incidents_channel`", fields=_INCIDENT, doc="a camera or beacon report opened an incident",
    ),
    "incident_updated": EventType(
        rooms="`incidents_channel`", fields=_INCIDENT, optional=_INCIDENT_DETAILS,
        doc="`action`: `signal_added`, `acknowledged`, `assigned`, `started`, `resolved`, `priority_raised` "
            "(with `from_priority`, `to_priority` and `note`)",
    ),
    "camera_health": EventType(
        rooms="`incidents_channel`",
        fields={"camera_id": str, "name": str, "health": str, "reported_state": str,
                "last_heartbeat_at": OPTIONAL_STR, "offline_since": OPTIONAL_STR, "latitude": NUMBER,
                "longitude": NUMBER, "timestamp": str},
        doc="a camera's health changed (`health`: `ok`, `reconnecting`, `offline`)",
    ),
    "sos_cameras_changed": EventType(
        rooms="`sos_channel`",
        fields={"sos_id": int, "room_id": str, "linked": list, "left": list, "timestamp": str},
        doc="cameras linked to an SOS (its uncertainty circle met their coverage, or a dispatcher linked them) "
            "or no longer linked; each item: `camera_id`, `name`, `source`, `reason`, `linked_at`, `left_at`",
    ),
    "sos_camera_incident": EventType(
        rooms="`sos_channel`",
        fields={"sos_id": int, "room_id": str, "incident_id": str, "camera_id": str, "kind": str, "priority": str,
                "timestamp": str},
        doc="a violence or scream incident on a camera linked to an open SOS was joined to it (one case)",
    ),
    "sos_camera_evidence": EventType(
        rooms="`sos_channel`",
        fields={"sos_id": int, "room_id": str, "camera_id": str, "images": int, "timestamp": str},
        doc="a linked camera sent the key frames of its last seconds (pre-roll) as private SOS evidence",
    ),
    "incident_escalated": EventType(
        rooms="`incidents_channel`", fields={**_INCIDENT_FIELDS, **_ESCALATED},
        doc="an incident waited too long in its status (response/)",
    ),
}


def _type_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join("null" if k is NoneType else k.__name__ for k in kinds)


def _matches(value, kind) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python, but never a valid number or id here.
    return isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)


def validate(event: str, payload: dict) -> None:
    """Raise EventSchemaError unless `payload` is exactly what `event` declares."""
    declared = EVENTS.get(event)
    if declared is None:
        raise EventSchemaError(f"Event {event!r} is not declared in realtime/event_schema.py.")
    if not isinstance(payload, dict):
        raise EventSchemaError(f"{event}: the payload must be an object.")
    missing = [name for name in declared.fields if name not in payload]
    unknown = [name for name in payload if name not in declared.fields and name not in declared.optional]
    if missing or unknown:
        raise EventSchemaError(f"{event}: missing {missing}, undeclared {unknown}.")
    for name, value in payload.items():
        kind = declared.fields.get(name, declared.optional.get(name))
        if not _matches(value, kind):
            raise EventSchemaError(f"{event}.{name}: expected {_type_name(kind)}, got {type(value).__name__}.")


def markdown_table() -> str:
    """The events table of socketio_testing_guide.md."""
    lines = ["| Event | Room | Payload |", "|---|---|---|"]
    for name, declared in EVENTS.items():
        fields = ", ".join(f"`{field}`" for field in declared.fields)
        if declared.optional:
            fields += "; sometimes " + ", ".join(f"`{field}`" for field in declared.optional)
        lines.append(f"| `{name}` | {declared.rooms} | {declared.doc}: {fields} |")
    return "\n".join(lines)
