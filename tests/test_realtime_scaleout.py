"""Scale-out: two realtime processes on one PostgreSQL, each serving its own clients, every event once to each."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections

from realtime import rooms
from realtime.models import OutboxEvent
from realtime_server.testing import RealtimeServer, RecordingClient, api, tokens  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]


@pytest.fixture(scope="module")
def two_servers(django_db_setup, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    # They poll only every 30 s: within the tests' waits, only NOTIFY can wake them.
    servers = [RealtimeServer(poll_interval=30), RealtimeServer(poll_interval=30)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
async def clients():
    made = []

    async def _client(server, auth):
        client = RecordingClient(server.url)
        made.append(client)
        return await client.connect(auth)

    yield _client
    for client in made:
        if client.sio.connected:
            await client.disconnect()
    await sync_to_async(connections.close_all)()


@sync_to_async
def newest_id() -> int:
    return OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


@sync_to_async
def ids_in(room_names: set[str], after: int) -> list[int]:
    return [e.pk for e in OutboxEvent.objects.filter(id__gt=after).order_by("id") if room_names & set(e.rooms)]


async def test_clients_of_two_processes_each_get_every_event_once_in_order(two_servers, live_server, clients, api,
                                                                           tokens):
    baseline = await newest_id()
    watchers = []
    for server in two_servers:
        for _ in range(3):
            client = await clients(server, {"token": tokens["dispatcher"]})
            await client.join("join_sos_channel")
            await client.join("join_location_tracking_channel")
            watchers.append(client)
    first = await api.raise_sos("first")

    # Concurrent requests: concurrent transactions, whose events must still be delivered in id order.
    await asyncio.gather(
        *(api.raise_sos(f"concurrent {i}") for i in range(8)),
        *(api.add_location(first["sos_id"], 12 + i / 100, sos_token=first["access_token"]) for i in range(16)),
    )
    # Delivery is in id order: once a marker raised after everything is in, no duplicate is still coming.
    marker = await api.raise_sos("marker")
    for client in watchers:
        await client.next("new_sos", sos_id=marker["sos_id"])
    expected = await ids_in({rooms.SOS_CHANNEL, rooms.LOCATION_TRACKING_CHANNEL}, baseline)

    assert len(expected) == 1 + 8 + 16 + 1
    for client in watchers:
        assert [event["event_id"] for _, event in client.outbox_events()] == expected


async def test_a_client_that_moves_to_the_other_process_resumes_without_gaps_or_duplicates(two_servers, live_server,
                                                                                           clients, api, tokens):
    first_server, second_server = two_servers
    dashboard = await clients(first_server, {"token": tokens["dispatcher"]})
    await dashboard.join("join_sos_channel")
    await api.raise_sos("seen on the first process")
    last_seen = (await dashboard.next("new_sos"))["event_id"]

    await dashboard.disconnect()
    missed = [await api.raise_sos(f"missed {i}") for i in range(3)]
    moved = await clients(second_server, {"token": tokens["dispatcher"], "last_event_id": last_seen})
    await moved.join("join_sos_channel")
    live = await api.raise_sos("live on the second process")
    await moved.next("new_sos", sos_id=live["sos_id"])
    marker = await api.raise_sos("marker")
    await moved.next("new_sos", sos_id=marker["sos_id"])

    assert [sos["sos_id"] for sos in moved.named("new_sos")] == (
        [s["sos_id"] for s in missed] + [live["sos_id"], marker["sos_id"]])
