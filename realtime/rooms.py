"""Names of the Socket.IO rooms; the one place that knows how a room is spelled."""

SOS_CHANNEL = "sos_channel"
LOCATION_TRACKING_CHANNEL = "location_tracking_channel"
INCIDENTS_CHANNEL = "incidents_channel"
# Unit positions as `unit_loc`, for clients of the NaariKavach contract ("Track All Units").
OFFICER_TRACKING_CHANNEL = "officer_tracking_channel"


def sos_room(room_id) -> str:
    return f"sos:{room_id}"


def unit_room(unit_number) -> str:
    return f"unit:{unit_number}"
