"""Fan-out as pre-built WebSocket frames: every client gets every event once, in order, on either path."""

import asyncio

import pytest

from realtime_server.testing import api, connect, is_strictly_increasing, realtime, realtime_server, tokens  # noqa: F401

pytestmark = pytest.mark.slow


async def test_websocket_and_polling_clients_get_every_alert_once_in_order_and_the_crowd_gets_frames(
    realtime, connect, api, tokens
):
    crowd = await asyncio.gather(*(connect({"token": tokens["dispatcher"]}) for _ in range(20)))
    polling = await connect({"token": tokens["dispatcher"]}, transports=("polling",))
    everyone = [*crowd, polling]
    for client in everyone:
        await client.emit("join", {"rooms": [{"type": "sos_channel"}]})
        await client.next("rooms_joined")
    before = realtime.health_detail()

    names = [f"fan-out {i}" for i in range(5)]
    for name in names:
        await api.raise_sos(name)
    for client in everyone:
        await client.next("new_sos", name=names[-1])

    after = realtime.health_detail()
    for client in everyone:
        alerts = client.named("new_sos")
        assert [alert["name"] for alert in alerts] == names
        assert is_strictly_increasing([alert["event_id"] for alert in alerts])
    # The WebSocket crowd is written pre-built frames; the long-polling client, which has no WebSocket, is
    # sent each alert through Engine.IO's queue. (A crowd client whose writer was busy at that moment goes
    # through the queue too, so the crowd's count is at least most of its deliveries, not all of them.)
    direct = after["delivered_direct"] - before["delivered_direct"]
    queued = after["delivered_queued"] - before["delivered_queued"]
    assert direct + queued == len(everyone) * len(names)
    assert queued >= len(names)
    assert direct >= len(crowd) * len(names) // 2
