"""The NaariKavach clients' own socket messages, quoted from their code, against a real realtime server.

Sources (github.com/basilisk-in/NaariKavach): the citizen app's offline mode
(NaariKavach_App/.../UserDashboardScreen.tsx), the police app (PoliceDashboardScreen.tsx) and the web
dashboard (naarikavach_website/src/services/socketService.js, components/Dashboard.jsx). Each client
connects with the credential we require (a user token in `auth`); nothing else in its messages changes.
"""

import aiohttp
import pytest
import socketio
from asgiref.sync import sync_to_async

from accounts.models import Unit
from realtime_server.testing import RealtimeServer, api, connect, realtime, tokens  # noqa: F401  (fixtures)
from sos.models import SOS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def realtime_server(django_db_setup, django_db_blocker):
    # Their web dashboard runs on its own origin (vite, port 3000 in their README).
    server = RealtimeServer(extra_env={"CORS_ALLOWED_ORIGINS": "http://localhost:3000"}).start()
    yield server
    server.stop()


async def test_the_citizen_apps_offline_mode_raises_an_sos_and_sends_points_over_the_socket(connect, tokens):
    app = await connect({"token": tokens["citizen"]})
    # UserDashboardScreen.tsx: socketRef.current.emit('create_sos', sosData)
    await app.emit("create_sos", {"name": "Emergency-1733045000000", "sos_type": 0,
                                  "initial_latitude": 12.9716, "initial_longitude": 77.5946})
    created = await app.next("create_sos_response")
    sos_id = created["data"]["sos_id"]
    # socketRef.current.emit('update_location', {"sos_request": sosId, "latitude": ..., "longitude": ...})
    await app.emit("update_location", {"sos_request": sos_id, "latitude": 12.98, "longitude": 77.6})
    located = await app.next("update_location_response")

    assert created["success"] is True
    assert {"sos_id", "room_id", "access_token"} <= set(created["data"])
    assert located["success"] is True and located["data"]["location"]["latitude"] == 12.98
    sos = await sync_to_async(SOS.objects.get)(pk=sos_id)
    assert (sos.last_latitude, sos.owner_id is not None) == (12.98, True)


async def test_an_sos_raised_over_a_socket_may_be_located_by_that_socket_only(connect, tokens):
    creator = await connect({"token": tokens["officer_a"]})
    await creator.emit("create_sos", {"name": "Emergency-1", "sos_type": 0,
                                      "initial_latitude": 12.97, "initial_longitude": 77.59})
    created = (await creator.next("create_sos_response"))["data"]
    stranger = await connect({"token": tokens["other_citizen"]})
    await stranger.emit("update_location", {"sos_request": created["sos_id"], "latitude": 1.0, "longitude": 2.0})
    refused = await stranger.next("update_location_response")

    # A stranger to the SOS learns nothing of it: the same answer as for an SOS that does not exist.
    assert (refused["success"], refused["status_code"]) == (False, 404)
    # The access token went to the creating socket only.
    assert not [e for e, d in stranger.events if "access_token" in str(d)]


async def test_a_bad_socket_sos_is_answered_like_the_rest_call(connect, tokens):
    app = await connect({"token": tokens["citizen"]})
    before = await sync_to_async(SOS.objects.count)()
    # An impossible position is dropped, never a reason to refuse her SOS: raised without it, as over REST.
    await app.emit("create_sos", {"name": "x", "sos_type": 0, "initial_latitude": 91, "initial_longitude": 0})
    bad_position = await app.next("create_sos_response")
    # Something that is not an SOS at all is refused and creates nothing.
    await app.emit("create_sos", "not json")
    not_json = await app.next("create_sos_response")

    assert bad_position["success"] is True and "initial_latitude" in bad_position["data"]["dropped"]
    raised = await sync_to_async(SOS.objects.get)(pk=bad_position["data"]["sos_id"])
    assert raised.location_pending and raised.initial_latitude is None
    assert (not_json["success"], not_json["error"]) == (False, "Invalid JSON format")
    assert await sync_to_async(SOS.objects.count)() == before + 1


async def test_officer_positions_over_the_socket_reach_track_all_units_and_the_tracking_channel(connect, tokens):
    dashboard = await connect({"token": tokens["dispatcher"]})
    # socketService.js joinOfficerTrackingChannel: this.socket.emit('join_officer_update', {})
    joined = await dashboard.join("join_officer_update", {})
    await dashboard.join("join_location_tracking_channel", {})
    police_app = await connect({"token": tokens["officer_a"]})
    # PoliceDashboardScreen.tsx emitUnitLocation: socketRef.current.emit('officer_location_update', unitLocationData)
    await police_app.emit("officer_location_update", {"unit_id": "UNIT-A", "latitude": 12.95, "longitude": 77.58,
                                                      "timestamp": "2026-12-01T10:00:00.000Z"})
    unit_loc = await dashboard.next("unit_loc")
    tracking = await dashboard.next("location_tracking_update")

    assert joined["channel"] == "officer_tracking_channel"
    assert (unit_loc["unit_id"], unit_loc["latitude"], unit_loc["longitude"]) == ("UNIT-A", 12.95, 77.58)
    assert (tracking["kind"], tracking["unit_number"]) == ("unit", "UNIT-A")
    unit = await sync_to_async(Unit.objects.get)(unit_number="UNIT-A")
    assert (unit.last_latitude, unit.last_longitude) == (12.95, 77.58)


async def test_an_officer_cannot_move_another_unit_over_the_socket(connect, tokens):
    police_app = await connect({"token": tokens["officer_b"]})
    await police_app.emit("officer_location_update", {"unit_id": "UNIT-A", "latitude": 1.0, "longitude": 2.0})
    refused = await police_app.next("error")

    assert refused["status_code"] == 403
    unit = await sync_to_async(Unit.objects.get)(unit_number="UNIT-A")
    assert unit.last_latitude != 1.0


async def test_the_police_apps_unit_room_gets_sos_points_with_sos_id_its_own_position_without_and_sos_resolved(
    connect, api, tokens
):
    sos = await api.raise_sos("Asha")
    await api.assign(sos["sos_id"], "UNIT-A", token=tokens["dispatcher"])
    police_app = await connect({"token": tokens["officer_a"]})
    # PoliceDashboardScreen.tsx: socket.emit('join_officer_room', { unit_number: unitId })
    await police_app.join("join_officer_room", {"unit_number": "UNIT-A"})
    await api.add_location(sos["sos_id"], 12.99, sos_token=sos["access_token"])
    await police_app.emit("officer_location_update", {"unit_id": "UNIT-A", "latitude": 12.5, "longitude": 77.5})
    await police_app.next("unit_location_update", kind="unit")  # recorded while the SOS is still open
    await api.resolve(sos["sos_id"], token=tokens["dispatcher"])
    resolved = await police_app.next("sos_resolved")

    updates = police_app.named("unit_location_update")
    # The app stores every unit_location_update that has an sos_id as that SOS's position.
    assert [(u.get("sos_id"), u["latitude"]) for u in updates] == [(sos["sos_id"], 12.99), (None, 12.5)]
    assert updates[1]["assigned_sos_id"] == sos["sos_id"]
    assert resolved["sos_id"] == sos["sos_id"]


@pytest.mark.parametrize(("origin", "accepted"), [
    ("http://localhost:3000", True),  # in CORS_ALLOWED_ORIGINS
    ("http://127.0.0.1:8000", True),  # a host the API serves (ALLOWED_HOSTS): our own dashboard
    ("https://evil.example", False),
])
async def test_browsers_connect_only_from_allowed_origins(realtime, tokens, origin, accepted):
    # The Engine.IO handshake itself, as a browser sends it: a refused origin gets a 400 and no CORS grant.
    # (python-engineio's client closes its session before reading a refusal's body, so behind a refusal it
    # can raise a bare "Connection closed" instead of ConnectionError: the status is the reliable witness.)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{realtime.url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                            headers={"Origin": origin}) as handshake:
            status = handshake.status
            granted = handshake.headers.get("Access-Control-Allow-Origin")
            await handshake.read()
    assert (status, granted) == ((200, origin) if accepted else (400, None))
    if accepted:  # and a real client from that origin connects and is signed in (over WebSocket: a polling
        # client's disconnect waits out its pending long poll, 25 s)
        client = socketio.AsyncClient(reconnection=False)
        try:
            await client.connect(realtime.url, auth={"token": tokens["dispatcher"]}, headers={"Origin": origin},
                                 transports=["websocket"], wait_timeout=10)
            assert client.connected
        finally:
            await client.disconnect()
