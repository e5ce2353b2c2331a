"""Faults: the realtime server killed while alerts are raised, clients dropping, lost wake-ups, pruned history."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db import transaction

from realtime import rooms
from realtime.models import OutboxEvent
from realtime_server.testing import RealtimeServer, api, connect, is_strictly_increasing, realtime, tokens  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def realtime_server(django_db_setup, django_db_blocker):
    """Polls every half second, so that the test of a lost wake-up is quick."""
    server = RealtimeServer(poll_interval=0.5).start()
    yield server
    server.stop()


@sync_to_async
def outbox_ids(room: str, after: int) -> list[int]:
    return [e.pk for e in OutboxEvent.objects.filter(id__gt=after).order_by("id") if room in e.rooms]


async def until_disconnected(client, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while client.sio.connected:
            await asyncio.sleep(0.05)


async def test_alerts_raised_while_the_server_is_down_arrive_once_in_order_after_it_restarts(
    realtime, connect, api, tokens
):
    dashboard = await connect({"token": tokens["dispatcher"]})
    await dashboard.join("join_sos_channel")
    await api.raise_sos("before the crash")
    last_seen = (await dashboard.next("new_sos"))["event_id"]

    realtime.kill()
    await until_disconnected(dashboard)
    for i in range(5):
        await api.raise_sos(f"while down {i}")
    await asyncio.to_thread(realtime.start)
    back = await connect({"token": tokens["dispatcher"], "last_event_id": last_seen})
    await back.join("join_sos_channel")
    await api.raise_sos("after the restart")
    await back.next("new_sos", name="after the restart")
    # Delivery is in id order: once a marker raised after everything is in, no duplicate is still coming.
    await api.raise_sos("marker")
    await back.next("new_sos", name="marker")

    names = [sos["name"] for sos in back.named("new_sos")]
    assert names == [f"while down {i}" for i in range(5)] + ["after the restart", "marker"]
    assert is_strictly_increasing([sos["event_id"] for sos in back.named("new_sos")])


async def test_a_client_that_drops_gets_everything_it_missed_in_its_rooms_once_in_order(
    realtime, connect, api, tokens
):
    sos = await api.raise_sos("Asha")
    officer = await connect({"token": tokens["dispatcher"]})
    await officer.join("join_sos_channel")
    await officer.join("join_location_tracking_channel")
    await api.add_location(sos["sos_id"], 12.1, sos_token=sos["access_token"])
    last_seen = (await officer.next("location_tracking_update"))["event_id"]

    await officer.disconnect()
    second = await api.raise_sos("Bela")
    for i in range(3):
        await api.add_location(sos["sos_id"], 12.2 + i / 10, sos_token=sos["access_token"])
        await api.add_location(second["sos_id"], 13.2 + i / 10, sos_token=second["access_token"])
    await api.acknowledge(sos["sos_id"], token=tokens["dispatcher"])
    back = await connect({"token": tokens["dispatcher"], "last_event_id": last_seen})
    # Both rooms in one join, as the guide says: the server answers with one stream in id order.
    await back.emit("join", {"rooms": [{"type": "sos_channel"}, {"type": "location_tracking_channel"}]})
    await api.add_location(second["sos_id"], 14.0, sos_token=second["access_token"])
    await back.next("location_tracking_update", latitude=14.0)
    # Delivery is in id order: once a marker sent after everything is in, no duplicate is still coming.
    await api.add_location(second["sos_id"], 15.0, sos_token=second["access_token"])
    await back.next("location_tracking_update", latitude=15.0)

    expected = sorted(set(await outbox_ids(rooms.SOS_CHANNEL, last_seen))
                      | set(await outbox_ids(rooms.LOCATION_TRACKING_CHANNEL, last_seen)))
    received = [event["event_id"] for _, event in back.outbox_events()]
    assert received == expected
    assert len(expected) == 10


async def test_a_quiet_dashboard_resumes_from_the_event_id_of_room_joined(realtime, connect, api, tokens):
    dashboard = await connect({"token": tokens["dispatcher"]})
    resume_from = (await dashboard.join("join_sos_channel"))["event_id"]

    await dashboard.disconnect()
    missed = await api.raise_sos("raised while the dashboard was away")
    back = await connect({"token": tokens["dispatcher"], "last_event_id": resume_from})
    await back.join("join_sos_channel")

    assert (await back.next("new_sos"))["sos_id"] == missed["sos_id"]


async def test_an_event_whose_wake_up_is_lost_still_arrives_at_the_next_poll(realtime, connect, tokens):
    dashboard = await connect({"token": tokens["dispatcher"]})
    await dashboard.join("join_sos_channel")

    @sync_to_async
    def write_without_wake_up():
        # An outbox row written like publish() does, minus the nudge or NOTIFY: as if the wake-up were lost.
        with transaction.atomic():
            return OutboxEvent.objects.create(event="new_sos", rooms=[rooms.SOS_CHANNEL],
                                              payload={"name": "unannounced"})

    event = await write_without_wake_up()

    assert (await dashboard.next("new_sos", timeout=5))["event_id"] == event.pk


async def test_a_client_resuming_from_a_pruned_event_is_told_to_resync_and_gets_live_events(
    realtime, connect, api, tokens
):
    dashboard = await connect({"token": tokens["dispatcher"]})
    await dashboard.join("join_sos_channel")
    await api.raise_sos("old")
    stale = (await dashboard.next("new_sos"))["event_id"]
    await dashboard.disconnect()
    await api.raise_sos("also old")
    await api.raise_sos("newest before the prune")
    await sync_to_async(call_command)("prune_outbox", hours=0)

    back = await connect({"token": tokens["dispatcher"], "last_event_id": stale})
    await back.join("join_sos_channel")
    resync = await back.next("resync_required")
    await api.raise_sos("live")

    assert (await back.next("new_sos"))["name"] == "live"
    assert resync["oldest_event_id"] > stale + 1
    assert "REST" in resync["message"]
    assert [sos["name"] for sos in back.named("new_sos")] == ["live"]
