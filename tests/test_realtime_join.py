"""The multi-room `join` against a real server: one answer listing what was joined and what was refused."""

import pytest

from realtime_server.testing import api, connect, is_strictly_increasing, realtime, realtime_server, tokens  # noqa: F401

pytestmark = pytest.mark.slow


async def answer_to(client, payload) -> dict:
    before = len(client.events)
    await client.emit("join", payload)
    return await client.wait_for(lambda events: next(
        (d | {"_event": e} for e, d in events[before:] if e in ("rooms_joined", "error")), None))


async def test_a_citizen_joins_its_own_sos_room_and_is_refused_the_channels_in_one_answer(connect, api, tokens):
    sos = await api.raise_sos("Asha", token=tokens["citizen"])
    citizen = await connect({"token": tokens["citizen"]})

    answer = await answer_to(citizen, {"rooms": [{"type": "sos_channel"}, {"type": "sos", "room_id": sos["room_id"]},
                                                 {"type": "unit", "unit_number": "UNIT-A"}]})
    trail = await citizen.next("location_history")

    assert answer["_event"] == "rooms_joined"
    assert [(r["type"], r["room_id"]) for r in answer["joined"]] == [("sos", sos["room_id"])]
    assert [r["type"] for r in answer["refused"]] == ["sos_channel", "unit"]
    assert all(r["message"] for r in answer["refused"])
    assert [p["latitude"] for p in trail["updates"]] == [12.9716]
    assert citizen.named("room_joined") == []  # one answer, not one per room


async def test_an_officer_follows_channels_and_its_unit_in_one_ordered_stream(connect, api, tokens):
    officer = await connect({"token": tokens["officer_a"]})
    answer = await answer_to(officer, {"rooms": [{"type": "sos_channel"}, {"type": "location_tracking_channel"},
                                                 {"type": "unit", "unit_number": "UNIT-A"}]})
    sos = await api.raise_sos("Bela")
    await api.assign(sos["sos_id"], "UNIT-A", token=tokens["dispatcher"])
    await api.add_location(sos["sos_id"], 12.5, sos_token=sos["access_token"])
    await officer.next("unit_location_update")

    # Every position of the force is the dispatchers' (docs/security.md): that one room is refused, the rest join.
    assert [r.get("channel") or r.get("unit_number") for r in answer["joined"]] == ["sos_channel", "UNIT-A"]
    assert [r["type"] for r in answer["refused"]] == ["location_tracking_channel"]
    names = [e for e, _ in officer.outbox_events()]
    assert names[0] == "new_sos"
    assert names.count("sos_updated") == 1  # once, though sent to the channel and the unit room
    assert is_strictly_increasing([d["event_id"] for _, d in officer.outbox_events()])


@pytest.mark.parametrize("payload", [None, "rooms", {"rooms": []}, {"rooms": "sos_channel"},
                                     {"rooms": [{"type": "sos_channel"}] * 21},
                                     {"rooms": [{"type": "sos_channel"}], "last_event_id": -1}])
async def test_a_malformed_join_is_answered_error_and_joins_nothing(connect, tokens, payload):
    dashboard = await connect({"token": tokens["dispatcher"]})
    answer = await answer_to(dashboard, payload)
    assert answer["_event"] == "error" and answer["message"]
