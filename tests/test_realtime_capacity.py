"""A realtime process near its open-files limit refuses new clients clearly and keeps answering /healthz."""

import pytest
import socketio

from realtime_server.testing import RealtimeServer, RecordingClient, connect, realtime, tokens  # noqa: F401

pytestmark = pytest.mark.slow

LIMIT = 160  # open files; the server keeps 100 for itself, so at most 60 are for clients


@pytest.fixture(scope="module")
def realtime_server(django_db_setup, django_db_blocker):
    server = RealtimeServer(open_files_limit=LIMIT).start()
    yield server
    server.stop()


async def test_a_full_server_refuses_with_a_reason_answers_healthz_and_admits_again_when_a_client_leaves(
    realtime, connect, tokens
):
    clients, refusal = [], None
    for _ in range(LIMIT):
        try:
            clients.append(await connect({"token": tokens["dispatcher"]}))
        except socketio.exceptions.ConnectionError:
            break
    # What a refused client is told (socket.io clients pass it to their connect_error handler).
    refused = RecordingClient(realtime.url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await refused.connect({"token": tokens["dispatcher"]})
    refusal = refused.named("connect_error")[0]
    health = realtime.health_detail()

    assert "at capacity" in refusal["message"]
    assert refusal["data"] == {"retry_after": 5}  # unlike a bad token: worth retrying
    assert 0 < len(clients) <= 60
    assert (health["status"], health["capacity"], health["open_files_limit"]) == ("ok", 60, LIMIT)
    assert "Realtime capacity: 60 clients" in realtime.log_tail(20_000)
    assert "Refusing new clients" in realtime.log_tail(20_000)

    await clients[0].disconnect()
    again = await connect({"token": tokens["dispatcher"]})
    assert (await again.join("join_sos_channel"))["channel"] == "sos_channel"
