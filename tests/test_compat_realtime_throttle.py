"""Writes over the socket are throttled like the REST calls they stand for (here: SOS points, 2 a minute)."""

import pytest

from realtime_server.testing import RealtimeServer, api, connect, realtime, tokens  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def realtime_server(django_db_setup, django_db_blocker):
    server = RealtimeServer(extra_env={"SOS_POINTS_PER_MINUTE": "2"}).start()
    yield server
    server.stop()


async def test_update_location_over_the_socket_meets_the_rest_throttle(connect, api, tokens):
    sos = await api.raise_sos("Asha", token=tokens["citizen"])
    app = await connect({"token": tokens["citizen"]})
    answers = []
    for latitude in (12.1, 12.2, 12.3):
        # UserDashboardScreen.tsx: socketRef.current.emit('update_location', {sos_request, latitude, longitude})
        await app.emit("update_location", {"sos_request": sos["sos_id"], "latitude": latitude, "longitude": 77.6})
        answers.append(await app.next("update_location_response"))

    assert [a["success"] for a in answers] == [True, True, False]
    assert answers[2]["status_code"] == 429
