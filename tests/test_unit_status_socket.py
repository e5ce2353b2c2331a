"""The police app sets its unit's status over the socket (`unit_status_update`), against a real realtime
server and a real Socket.IO client: the same service as REST, so the same rules, audit and event."""

import pytest
from asgiref.sync import sync_to_async

from accounts.models import Unit, UnitStatusChange
from realtime_server.testing import api, connect, realtime, realtime_server, tokens  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def _unit(unit_number: str) -> Unit:
    return Unit.objects.get(unit_number=unit_number)


def _changes(unit_number: str) -> list[tuple]:
    return list(UnitStatusChange.objects.filter(unit__unit_number=unit_number).order_by("id")
                .values_list("from_status", "to_status", "actor_label", "reason", "overridden"))


async def test_an_officer_goes_off_duty_over_the_socket_audited_and_published_to_the_dispatchers(connect, tokens):
    dashboard = await connect({"token": tokens["dispatcher"]})
    await dashboard.join("join_sos_channel", {})
    police_app = await connect({"token": tokens["officer_a"]})

    await police_app.emit("unit_status_update", {"unit_number": "UNIT-A", "status": "off_duty"})
    answer = await police_app.next("unit_status_update_response")
    changed = await dashboard.next("unit_status_changed")

    assert answer == {"ok": True, "unit_number": "UNIT-A", "status": "off_duty"}
    assert (changed["unit_number"], changed["from_status"], changed["status"]) == ("UNIT-A", "available", "off_duty")
    assert await sync_to_async(_changes)("UNIT-A") == [("available", "off_duty", "officer:officer_a", "reported", False)]
    assert (await sync_to_async(_unit)("UNIT-A")).status == "off_duty"


async def test_an_officer_of_another_unit_is_refused_and_nothing_changes(connect, tokens):
    police_app = await connect({"token": tokens["officer_b"]})

    await police_app.emit("unit_status_update", {"unit_number": "UNIT-A", "status": "off_duty"})
    answer = await police_app.next("unit_status_update_response")

    assert (answer["ok"], answer["status_code"]) == (False, 403)
    assert "officers of this unit" in answer["error"]
    assert (await sync_to_async(_unit)("UNIT-A")).status == "available"
    assert await sync_to_async(_changes)("UNIT-A") == []


async def test_a_dispatcher_overrides_the_lifecycle_over_the_socket_and_an_officer_may_not(connect, tokens):
    police_app = await connect({"token": tokens["officer_a"]})
    await police_app.emit("unit_status_update", {"unit_number": "UNIT-A", "status": "on_scene"})
    skipped = await police_app.next("unit_status_update_response")
    console = await connect({"token": tokens["dispatcher"]})
    await console.emit("unit_status_update", {"unit_number": "UNIT-A", "status": "on_scene"})
    overridden = await console.next("unit_status_update_response")

    # available -> on scene skips dispatched: the same Conflict as over REST for the officer.
    assert (skipped["ok"], skipped["status_code"]) == (False, 409)
    assert overridden == {"ok": True, "unit_number": "UNIT-A", "status": "on_scene"}
    assert await sync_to_async(_changes)("UNIT-A") == [("available", "on_scene", "dispatcher:dispatch", "override", True)]


@pytest.mark.parametrize(("payload", "status_code", "field"), [
    ({"unit_number": "UNIT-A", "status": "napping"}, 400, "status"),
    ({"unit_number": "UNIT-A"}, 400, "status"),
    ({"status": "off_duty"}, 400, "unit_number"),
    ({"unit_number": 7, "status": "off_duty"}, 400, "unit_number"),
    ("not json", 400, None),
    (["UNIT-A", "off_duty"], 400, None),
    ({"unit_number": "UNIT-NOPE", "status": "off_duty"}, 404, None),
])
async def test_bad_input_is_a_clear_refusal_and_changes_nothing(connect, tokens, payload, status_code, field):
    police_app = await connect({"token": tokens["officer_a"]})

    await police_app.emit("unit_status_update", payload)
    answer = await police_app.next("unit_status_update_response")

    assert (answer["ok"], answer["status_code"]) == (False, status_code)
    assert answer["error"]
    if field:
        assert field in answer["fields"]
    assert (await sync_to_async(_unit)("UNIT-A")).status == "available"
    assert await sync_to_async(_changes)("UNIT-A") == []


async def test_a_citizen_cannot_set_a_units_status(connect, tokens):
    app = await connect({"token": tokens["citizen"]})

    await app.emit("unit_status_update", {"unit_number": "UNIT-A", "status": "off_duty"})
    answer = await app.next("unit_status_update_response")

    assert (answer["ok"], answer["status_code"]) == (False, 403)
    assert (await sync_to_async(_unit)("UNIT-A")).status == "available"
