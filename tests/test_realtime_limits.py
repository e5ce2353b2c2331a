"""The realtime server cannot be knocked over by one client: oversized messages are refused as they
arrive (memory stays flat), a flood of messages closes that connection, and sessions that never sign
in are capped and timed out."""

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async
from django.core.management import call_command
from prometheus_client.parser import text_string_to_metric_families

from realtime_server.testing import RealtimeServer, api, connect, realtime, tokens  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

MAX_UNAUTHENTICATED = 5


@pytest.fixture(scope="module")
def realtime_server(django_db_setup, django_db_blocker):
    server = RealtimeServer(extra_env={
        "REALTIME_MAX_UNAUTHENTICATED": str(MAX_UNAUTHENTICATED),
        "REALTIME_AUTH_TIMEOUT_SECONDS": "1",
        "REALTIME_MAX_MESSAGE_BYTES": str(64 * 1024),
        "REALTIME_MAX_MESSAGES_PER_SECOND": "10",
        "REALTIME_MESSAGE_BURST": "20",
    }).start()
    yield server
    server.stop()


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _ws_url(realtime) -> str:
    return realtime.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


async def _send_oversized(realtime, size: int) -> str:
    """Open a raw Engine.IO WebSocket and send one `size`-byte message: "closed" if the server closed
    the connection on it (1009, or cut while the client was still sending), else what it answered."""
    async with websockets.connect(_ws_url(realtime), max_size=None) as ws:
        await ws.recv()  # Engine.IO's open packet
        try:
            await ws.send("4" + "2" + json.dumps(["join_sos_channel", "x" * size]))
            async with asyncio.timeout(10):
                while True:  # Engine.IO pings may come first; an answer to the join would be a failure.
                    if (await ws.recv()).startswith("42"):
                        break
        except websockets.ConnectionClosed as closed:
            return "closed" if closed.rcvd is None or closed.rcvd.code == 1009 else f"closed {closed.rcvd.code}"
    return "answered"


async def test_oversized_messages_are_refused_and_memory_stays_flat(realtime):
    before = _rss_mib(realtime.process.pid)
    codes = []
    for _ in range(4):  # 20 clients, as many at once as the cap on sessions not yet signed in allows
        codes += await asyncio.gather(*(_send_oversized(realtime, 15 * 1024 * 1024)
                                        for _ in range(MAX_UNAUTHENTICATED)))
    after = _rss_mib(realtime.process.pid)
    assert codes == ["closed"] * 20
    assert after - before < 40, f"RSS grew from {before:.0f} MiB to {after:.0f} MiB"
    assert realtime.health()["status"] == "ok"


async def test_a_message_within_the_limit_is_still_handled(connect, tokens):
    dashboard = await connect({"token": tokens["dispatcher"]})
    joined = await dashboard.join("join_sos_channel", {"note": "x" * 30_000})
    assert "event_id" in joined


async def test_a_client_flooding_messages_is_disconnected_and_others_are_not(connect, tokens):
    quiet = await connect({"token": tokens["dispatcher"]})
    flooder = await connect({"token": tokens["dispatcher"]})
    closed = asyncio.Event()
    flooder.sio.on("disconnect", lambda *args: closed.set())
    for _ in range(200):
        if not flooder.sio.connected:
            break
        await flooder.sio.emit("join_sos_channel", {})
    await asyncio.wait_for(closed.wait(), 10)
    assert quiet.sio.connected
    assert "event_id" in await quiet.join("join_sos_channel")


async def _open_session(http: httpx.AsyncClient) -> int:
    response = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
    return response.status_code


async def test_sessions_that_never_sign_in_are_capped_then_timed_out(realtime, connect, tokens):
    async with httpx.AsyncClient(base_url=realtime.url, timeout=10) as http:
        opened = [await _open_session(http) for _ in range(MAX_UNAUTHENTICATED)]
        refused = await _open_session(http)
        # A signed-in client is not affected by the cap once it is in.
        assert opened == [200] * MAX_UNAUTHENTICATED and refused == 401
        # After the sign-in timeout (1 s here) the idle sessions are closed and room is made again.
        async with asyncio.timeout(10):
            while await _open_session(http) != 200:
                await asyncio.sleep(0.2)


async def test_the_public_health_check_shows_no_counters_and_the_detail_is_for_the_machine_only(realtime):
    async with httpx.AsyncClient(base_url=realtime.url, timeout=10) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        detail = await http.get("/healthz/detail")
        assert detail.status_code == 200 and "cursor" in detail.json()
        relayed = await http.get("/healthz/detail", headers={"X-Forwarded-For": "203.0.113.9"})
        assert relayed.status_code == 403 and "cursor" not in relayed.text


async def test_the_realtime_server_exposes_its_metrics_to_this_machine_only(realtime, connect, tokens):
    await connect({"token": tokens["dispatcher"]})
    async with httpx.AsyncClient(base_url=realtime.url, timeout=10) as http:
        text = (await http.get("/metrics")).text
        assert "naarikavach_realtime_clients" in text and "naarikavach_realtime_deliveries_total" in text
        assert 'naarikavach_realtime_sessions_closed_total{reason="closed_for_rate"}' in text
        assert (await http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})).status_code == 404


def _metric(text: str, name: str, **labels) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    raise AssertionError(f"{name} {labels} not in the metrics")


async def test_the_metrics_count_joins_replays_resyncs_and_the_outbox_lag(realtime, connect, api, tokens):
    async with httpx.AsyncClient(base_url=realtime.url, timeout=10) as http:
        async def scrape():
            return (await http.get("/metrics")).text

        before = await scrape()
        dashboard = await connect({"token": tokens["dispatcher"]})
        await dashboard.join("join_sos_channel")
        citizen = await connect({"token": tokens["citizen"]})
        assert (await citizen.join("join_sos_channel"))["_event"] == "error"
        await api.raise_sos("first")
        first = (await dashboard.next("new_sos"))["event_id"]
        await api.raise_sos("second")
        await api.raise_sos("third")
        await dashboard.next("new_sos", name="third")

        # A dashboard that was away since the first event replays the two it missed.
        back = await connect({"token": tokens["dispatcher"], "last_event_id": first})
        await back.join("join_sos_channel")
        await back.next("new_sos", name="third")
        # One whose resume point was pruned is told to resync.
        await sync_to_async(call_command)("prune_outbox", hours=0)
        stale = await connect({"token": tokens["dispatcher"], "last_event_id": first})
        await stale.join("join_sos_channel")
        await stale.next("resync_required")

        after = await scrape()
    assert _metric(after, "naarikavach_realtime_joins_total", outcome="joined") - \
        _metric(before, "naarikavach_realtime_joins_total", outcome="joined") == 3
    assert _metric(after, "naarikavach_realtime_joins_total", outcome="refused") - \
        _metric(before, "naarikavach_realtime_joins_total", outcome="refused") == 1
    assert _metric(after, "naarikavach_realtime_replayed_events_total") - \
        _metric(before, "naarikavach_realtime_replayed_events_total") == 2
    assert _metric(after, "naarikavach_realtime_resyncs_total") - _metric(before, "naarikavach_realtime_resyncs_total") == 1
    # Everything committed has been dispatched: no lag, and the cursor is at the newest event.
    assert _metric(after, "naarikavach_realtime_outbox_lag_events") == 0
    assert _metric(after, "naarikavach_realtime_outbox_cursor") >= first + 2
