"""The realtime server as clients see it: a real server process, real Socket.IO clients, events raised over REST."""

import asyncio

import pytest
import socketio
from asgiref.sync import sync_to_async

from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from privacy.models import ViewAuditEntry
from realtime.models import OutboxEvent
from realtime_server.testing import RecordingClient, api, connect, realtime, realtime_server, tokens  # noqa: F401  (fixtures)
from sos.models import SOS

pytestmark = pytest.mark.slow

JOINS = {
    "sos_channel": ("join_sos_channel", lambda ctx: {}),
    "location_tracking_channel": ("join_location_tracking_channel", lambda ctx: {}),
    "incidents_channel": ("join_incidents_channel", lambda ctx: {}),
    "unit room": ("join_officer_room", lambda ctx: {"unit_number": "UNIT-A"}),
    "sos room": ("join_sos_room", lambda ctx: {"room_id": ctx["sos"]["room_id"]}),
}
# Who may join what: responders the SOS and incidents channels; dispatchers the tracking channel; officers
# their own unit only; an SOS room its owner and responders (officers: an open SOS, or their unit's).
ALLOWED = {
    "sos_channel": {"officer_a", "officer_b", "dispatcher", "admin"},
    # Every unit's and victim's position: the dispatchers' picture (docs/security.md, officers' scope).
    "location_tracking_channel": {"dispatcher", "admin"},
    "incidents_channel": {"officer_a", "officer_b", "dispatcher", "admin"},
    "unit room": {"officer_a", "dispatcher", "admin"},
    "sos room": {"citizen", "sos_owner_token", "officer_a", "officer_b", "dispatcher", "admin"},
}


async def test_a_connection_without_credentials_is_refused_with_a_clear_message(realtime):
    client = RecordingClient(realtime.url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(None)

    assert "Authentication required" in client.named("connect_error")[0]["message"]


@pytest.mark.parametrize("auth", [{"token": "not-a-token"}, {"sos_token": "not-an-sos-token"}, {"token": ""}])
async def test_a_connection_with_unknown_credentials_is_refused(realtime, auth):
    client = RecordingClient(realtime.url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(auth)

    assert client.named("connect_error")[0]["message"]
    assert not client.sio.connected


async def test_a_signed_in_officer_is_greeted_on_connect(connect, tokens):
    client = await connect({"token": tokens["officer_a"]})

    greeting = await client.next("connection_established")
    assert "officer_a" in greeting["message"]
    assert isinstance(greeting["event_id"], int)


@pytest.mark.parametrize("join", list(JOINS))
async def test_only_the_right_people_may_join(connect, api, tokens, join):
    sos = await api.raise_sos("Asha", token=tokens["citizen"])
    other_sos = await api.raise_sos("Bela", token=tokens["other_citizen"])
    credentials = {name: {"token": token} for name, token in tokens.items()}
    credentials["sos_owner_token"] = {"sos_token": sos["access_token"]}
    credentials["other_sos_token"] = {"sos_token": other_sos["access_token"]}
    event, payload = JOINS[join]

    answers = {}
    for persona, auth in credentials.items():
        client = await connect(auth)
        answers[persona] = await client.join(event, payload({"sos": sos}))

    allowed = {persona for persona, answer in answers.items() if answer["_event"] == "room_joined"}
    assert allowed == ALLOWED[join]
    assert all(answers[p]["message"] for p in answers)


async def test_a_refused_join_delivers_nothing_from_that_room(connect, api, tokens):
    citizen = await connect({"token": tokens["citizen"]})
    dispatcher = await connect({"token": tokens["dispatcher"]})
    refused = await citizen.join("join_sos_channel")
    await dispatcher.join("join_sos_channel")

    await api.raise_sos("Chitra")

    await dispatcher.next("new_sos", name="Chitra")
    await citizen.barrier(api, token=tokens["citizen"])
    assert refused["_event"] == "error"
    assert citizen.named("new_sos") == []


async def test_an_sos_raised_over_rest_reaches_the_sos_channel_with_the_contract_fields(connect, api, tokens):
    dispatcher = await connect({"token": tokens["dispatcher"]})
    await dispatcher.join("join_sos_channel")

    created = await api.raise_sos("Asha", latitude=12.5, longitude=77.25)

    new_sos = await dispatcher.next("new_sos")
    assert {"sos_id", "room_id", "name", "sos_type", "latitude", "longitude", "created_at", "event_id"} <= set(new_sos)
    assert (new_sos["sos_id"], new_sos["room_id"], new_sos["name"]) == (created["sos_id"], created["room_id"], "Asha")
    assert (new_sos["latitude"], new_sos["longitude"], new_sos["sos_type"]) == (12.5, 77.25, 0)


async def test_joining_an_sos_room_sends_its_trail_then_each_new_point(connect, api, tokens):
    sos = await api.raise_sos("Asha", latitude=12.0)
    await api.add_location(sos["sos_id"], 12.1, sos_token=sos["access_token"])
    owner = await connect({"sos_token": sos["access_token"]})

    joined = await owner.join("join_sos_room", {"room_id": sos["room_id"]})
    trail = await owner.next("location_history")
    await api.add_location(sos["sos_id"], 12.2, sos_token=sos["access_token"])
    point = await owner.next("location_history")

    assert joined["room_id"] == sos["room_id"]
    assert [p["latitude"] for p in trail["updates"]] == [12.0, 12.1]
    assert "sos_id" not in trail  # the NaariKavach dashboard takes a location_history with one as a live point
    assert (point["latitude"], point["sos_id"]) == (12.2, sos["sos_id"])
    assert point["event_id"] > trail["event_id"]


async def test_a_trail_read_over_the_socket_is_in_the_view_audit_like_one_read_over_rest(connect, api, tokens):
    sos = await api.raise_sos("Asha")
    dispatcher = await connect({"token": tokens["dispatcher"]})

    await dispatcher.join("join_sos_room", {"room_id": sos["room_id"]})
    await dispatcher.next("location_history")

    reads = await sync_to_async(list)(
        ViewAuditEntry.objects.filter(action="sos_trail_read", subject_id=str(sos["sos_id"])).values_list(
            "actor_label", "ip_address"))
    assert reads == [("dispatcher:dispatch", "127.0.0.1")]


async def test_a_location_point_reaches_the_sos_room_its_unit_and_the_tracking_channel(connect, api, tokens):
    sos = await api.raise_sos("Asha")
    await api.assign(sos["sos_id"], "UNIT-A", token=tokens["dispatcher"])
    owner = await connect({"sos_token": sos["access_token"]})
    unit = await connect({"token": tokens["officer_a"]})
    tracking = await connect({"token": tokens["dispatcher"]})
    await owner.join("join_sos_room", {"room_id": sos["room_id"]})
    await unit.join("join_officer_room", {"unit_number": "UNIT-A"})
    await tracking.join("join_location_tracking_channel")

    await api.add_location(sos["sos_id"], 13.25, sos_token=sos["access_token"])

    assert (await owner.next("location_history", latitude=13.25))["sos_id"] == sos["sos_id"]
    assert (await unit.next("unit_location_update"))["latitude"] == 13.25
    update = await tracking.next("location_tracking_update")
    assert {k: update[k] for k in ("unit_number", "sos_id", "latitude")} == {
        "unit_number": "UNIT-A", "sos_id": sos["sos_id"], "latitude": 13.25}
    assert {"longitude", "timestamp", "event_id"} <= set(update)


async def test_a_unit_reporting_its_position_reaches_its_room_and_the_tracking_channel(connect, api, tokens):
    dispatcher = await connect({"token": tokens["dispatcher"]})
    await dispatcher.join("join_officer_room", {"unit_number": "UNIT-A"})
    await dispatcher.join("join_location_tracking_channel")

    await api.post("/api/units/UNIT-A/location/", {"latitude": 12.3, "longitude": 77.1}, token=tokens["officer_a"],
                   expect=201)

    assert (await dispatcher.next("unit_location_update"))["unit_number"] == "UNIT-A"
    assert (await dispatcher.next("location_tracking_update"))["latitude"] == 12.3


async def test_the_owner_and_the_sos_channel_follow_every_change_as_sos_updated(connect, api, tokens):
    sos = await api.raise_sos("Asha")
    second = await api.raise_sos("Bela")
    owner = await connect({"sos_token": sos["access_token"]})
    dispatcher = await connect({"token": tokens["dispatcher"]})
    await owner.join("join_sos_room", {"room_id": sos["room_id"]})
    await dispatcher.join("join_sos_channel")

    await api.acknowledge(sos["sos_id"], token=tokens["dispatcher"])
    await api.assign(sos["sos_id"], "UNIT-A", token=tokens["dispatcher"])
    await api.resolve(sos["sos_id"], token=tokens["dispatcher"])
    await api.cancel(second["sos_id"], sos_token=second["access_token"])

    await dispatcher.wait_for(lambda events: len([e for e, _ in events if e == "sos_updated"]) == 4)
    await owner.wait_for(lambda events: len([e for e, _ in events if e == "sos_updated"]) == 3)
    assert [(u["action"], u["status"]) for u in owner.named("sos_updated")] == [
        ("acknowledged", "acknowledged"), ("assigned", "dispatched"), ("resolved", "resolved")]
    assert owner.named("sos_updated")[1]["unit_number"] == "UNIT-A"
    assert [u["action"] for u in dispatcher.named("sos_updated")][-1] == "cancelled"


async def test_events_sent_by_a_client_reach_no_one_and_change_nothing(connect, api, tokens):
    sos = await api.raise_sos("Asha")
    forger = await connect({"token": tokens["dispatcher"]})
    watcher = await connect({"token": tokens["dispatcher"]})
    await watcher.join("join_sos_channel")
    await watcher.join("join_sos_room", {"room_id": sos["room_id"]})
    before = await sync_to_async(lambda: (OutboxEvent.objects.count(), SOS.objects.count()))()

    forged = {
        "new_sos": {"sos_id": 999, "name": "Fake", "latitude": 1, "longitude": 1},
        "sos_updated": {"sos_id": sos["sos_id"], "status": "resolved", "action": "resolved"},
        "location_history": {"room_id": sos["room_id"], "latitude": 0, "longitude": 0},
        "incident_created": {"id": 1},
        "room_joined": {"channel": "sos_channel"},
    }
    for event, payload in forged.items():
        await forger.emit(event, payload)
    await forger.wait_for(lambda events: len([e for e, _ in events if e == "error"]) == len(forged))
    assert await sync_to_async(lambda: (OutboxEvent.objects.count(), SOS.objects.count()))() == before
    assert await sync_to_async(lambda: SOS.objects.get(pk=sos["sos_id"]).status)() == "active"
    # A marker after the forgeries: the watcher gets events in id order, so once it is in, nothing forged is coming.
    marker = await api.raise_sos("marker")
    await watcher.next("new_sos", sos_id=marker["sos_id"])

    trail, marker_event = watcher.named("location_history")[0], watcher.named("new_sos")[0]
    assert watcher.outbox_events() == [("location_history", trail), ("new_sos", marker_event)]


async def test_an_sos_reaches_clients_right_after_commit_not_at_the_next_poll(connect, api, tokens):
    dispatcher = await connect({"token": tokens["dispatcher"]})
    await dispatcher.join("join_sos_channel")

    started = asyncio.get_running_loop().time()
    await api.raise_sos("Asha")
    await dispatcher.next("new_sos")

    # This module's server polls every 30 s: only the wake-up (UDP nudge or NOTIFY) explains a fast arrival.
    assert asyncio.get_running_loop().time() - started < 3


async def test_an_incident_from_a_camera_reaches_the_incidents_channel_and_its_changes_follow(
    connect, api, tokens, device, beacon
):
    officer = await connect({"token": tokens["officer_a"]})
    citizen = await connect({"token": tokens["citizen"]})
    await officer.join("join_incidents_channel")
    await citizen.join("join_incidents_channel")

    report = {"beacon_id": beacon.beacon_id, "confidence_score": 0.95, "description": "Fight detected"}
    response = await api.http.post("/api/ai/violence-detected/", json=report,
                                   headers={"Authorization": f"Device {device.raw_key}"})
    assert response.status_code == 201, response.text
    created = await officer.next("incident_created")
    await api.post(f"/api/incidents/{created['incident_id']}/acknowledge/", token=tokens["officer_a"], expect=200)
    updated = await officer.next("incident_updated")
    await citizen.barrier(api, token=tokens["citizen"])

    assert (created["kind"], created["beacon"]["beacon_id"]) == ("violence", beacon.beacon_id)
    assert (updated["incident_id"], updated["action"]) == (created["incident_id"], "acknowledged")
    assert updated["event_id"] > created["event_id"]
    assert citizen.named("incident_created", "incident_updated") == []
