"""Test support for the realtime server: a real server process on free ports, and clients that record what they get."""

import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx
import pytest
import socketio
from asgiref.sync import sync_to_async
from django.db import connection, connections

from naarikavach.testing import api_token

REPO = Path(__file__).resolve().parent.parent


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_env() -> dict:
    """Environment that points a child process at the database this test process uses (the test database)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        return {"DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    return {"DATABASE_URL": "", "SQLITE_PATH": str(db["NAME"])}


class RealtimeServer:
    """`run_socketio.sh` in a child process; start, kill and restart it like an operator (or a crash) would."""

    def __init__(self, *, poll_interval: float = 30.0, prune_interval: float = 0, extra_env: dict | None = None,
                 open_files_limit: int | None = None):
        self.port = free_port()
        self.nudge_addr = f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}"
        self.env = {
            **os.environ,
            **database_env(),
            "REALTIME_NUDGE_ADDR": self.nudge_addr,
            "REALTIME_POLL_INTERVAL": str(poll_interval),
            "REALTIME_PRUNE_INTERVAL": str(prune_interval),
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.open_files_limit = open_files_limit  # soft and hard, as a small machine or container would set it
        self.process: subprocess.Popen | None = None
        self.log_path = Path(tempfile.gettempdir()) / f"naarikavach-realtime-{os.getpid()}-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "RealtimeServer":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(REPO / "run_socketio.sh"), "--port", str(self.port), "--log-level", "warning"],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=self._limit_open_files if self.open_files_limit else None,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"realtime server exited with {self.process.returncode}: {self.log_tail()}")
            try:
                self.health()
                return self
            except OSError:
                time.sleep(0.1)
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"realtime server did not start in {timeout}s: {tail}")

    def _limit_open_files(self) -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files_limit, self.open_files_limit))

    def health(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
            return json.loads(response.read())

    def health_detail(self) -> dict:
        """The counters and capacity, which the server shows only to its own machine (as this test is)."""
        with urllib.request.urlopen(f"{self.url}/healthz/detail", timeout=2) as response:
            return json.loads(response.read())

    def kill(self) -> None:
        """Die like a crash: no shutdown, connections cut."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)
        self.log_path.unlink(missing_ok=True)

    def _signal(self, signum: int) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signum)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


class RecordingClient:
    """A python-socketio AsyncClient that records every event it receives, for tests to wait on."""

    def __init__(self, server_url: str):
        self.url = server_url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, dict]] = []
        self._consumed: dict = {}
        self._changed = asyncio.Condition()
        self.sio.on("*", self._record)
        self.sio.on("connect_error", self._record_connect_error)

    async def _record(self, event, data=None):
        self.events.append((event, data))
        async with self._changed:
            self._changed.notify_all()

    async def _record_connect_error(self, data=None):
        await self._record("connect_error", data)

    async def connect(self, auth: dict | None, *, transports=("websocket",)) -> "RecordingClient":
        await self.sio.connect(self.url, auth=auth, transports=list(transports), wait_timeout=10)
        return self

    async def disconnect(self) -> None:
        if self.sio.transport() == "polling":
            # python-engineio's server drops a long-polling socket on the client's goodbye without answering its
            # pending poll, and the client waits that poll out (30 s). The goodbye is sent all the same; only the
            # wait is skipped.
            await self.sio.eio.disconnect(abort=True)
        else:
            await self.sio.disconnect()

    async def emit(self, event: str, data=None) -> None:
        await self.sio.emit(event, data)

    async def wait_for(self, predicate, timeout: float = 10):
        """Wait until predicate(events) is truthy; returns its value."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self.events)), timeout)
            except TimeoutError:
                raise AssertionError(f"timed out; received: {self.events}") from None
        return predicate(self.events)

    async def next(self, event: str, /, timeout: float = 10, **match) -> dict:
        """The next `event` (whose fields equal `match`) not yet returned by an earlier `next` call."""
        key = (event, tuple(sorted(match.items())))
        start = self._consumed.get(key, 0)

        def found(events):
            hits = [d for e, d in events if e == event and all(d.get(k) == v for k, v in match.items())]
            return hits[start] if len(hits) > start else None

        data = await self.wait_for(found, timeout)
        self._consumed[key] = start + 1
        return data

    async def join(self, event: str, data: dict | None = None, timeout: float = 10) -> dict:
        """Send a join and wait for its answer: the `room_joined` or `error` it causes."""
        before = len(self.events)
        await self.emit(event, data or {})
        answer = await self.wait_for(
            lambda events: next((d | {"_event": e} for e, d in events[before:] if e in ("room_joined", "error")), None),
            timeout,
        )
        return answer

    def named(self, *names: str) -> list[dict]:
        return [d for e, d in self.events if e in names]

    def outbox_events(self) -> list[tuple[str, dict]]:
        """Events from the outbox (not control answers), in arrival order."""
        control = {"connection_established", "room_joined", "rooms_joined", "error", "resync_required"}
        return [(e, d) for e, d in self.events if e not in control]

    async def barrier(self, api: "Api", *, token: str) -> None:
        """Wait until everything the outbox holds now that this client is owed has arrived, so that a test may
        then assert that something did not: the client's user (a citizen) raises an SOS of her own and joins
        its room. Its trail is sent only after the server has dispatched every event up to the trail's
        snapshot, in id order, so an earlier event owed to this client would have arrived before it."""
        mine = await api.raise_sos("barrier", token=token)
        answer = await self.join("join_sos_room", {"room_id": mine["room_id"]})
        assert answer["_event"] == "room_joined", answer
        await self.next("location_history", room_id=mine["room_id"])


def is_strictly_increasing(ids: list[int]) -> bool:
    return all(a < b for a, b in zip(ids, ids[1:], strict=False))


class Api:
    """The REST API as the mobile app and the dashboard call it: every event in these tests starts here."""

    def __init__(self, base_url: str):
        self.http = httpx.AsyncClient(base_url=base_url, timeout=20)

    async def close(self) -> None:
        await self.http.aclose()

    async def post(self, path: str, body: dict | None = None, *, token: str | None = None,
                   sos_token: str | None = None, expect: int | None = None) -> dict:
        headers = {}
        if token:
            headers["Authorization"] = f"Token {token}"
        if sos_token:
            headers["X-SOS-Token"] = sos_token
        response = await self.http.post(path, json=body or {}, headers=headers)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response.json()

    async def raise_sos(self, name: str = "Asha", *, token: str | None = None, latitude: float = 12.9716,
                        longitude: float = 77.5946) -> dict:
        body = {"name": name, "sos_type": 0, "initial_latitude": latitude, "initial_longitude": longitude}
        return await self.post("/api/create-sos/", body, token=token, expect=201)

    async def add_location(self, sos_id: int, latitude: float, longitude: float = 77.6, **credentials) -> dict:
        body = {"sos_request": sos_id, "latitude": latitude, "longitude": longitude}
        return await self.post("/api/update-location/", body, expect=201, **credentials)

    async def acknowledge(self, sos_id: int, *, token: str) -> dict:
        return await self.post(f"/api/sos/{sos_id}/acknowledge/", token=token, expect=200)

    async def assign(self, sos_id: int, unit_number: str, *, token: str) -> dict:
        body = {"sos_request": sos_id, "officer_name": "Inspector Rao", "unit_number": unit_number}
        return await self.post("/api/assign-officer/", body, token=token, expect=201)

    async def resolve(self, sos_id: int, *, token: str) -> dict:
        return await self.post(f"/api/resolve-sos/{sos_id}/", {"note": "Safe"}, token=token, expect=200)

    async def cancel(self, sos_id: int, **credentials) -> dict:
        return await self.post(f"/api/cancel-sos/{sos_id}/", {"note": "False alarm"}, expect=200, **credentials)


# Fixtures: import the ones a test module uses (`from realtime_server.testing import realtime, api, connect, tokens`).


@pytest.fixture(scope="module")
def realtime_server(django_db_setup, django_db_blocker):
    """One realtime server process per test module, against the test database; always stopped."""
    server = RealtimeServer().start()
    yield server
    server.stop()


@pytest.fixture
def realtime(realtime_server, live_server, settings):
    """The realtime server, with the live API server nudging it after each commit."""
    settings.REALTIME_NUDGE_ADDR = realtime_server.nudge_addr
    if realtime_server.process.poll() is not None:  # a fault test in this module left it stopped
        realtime_server.start()
    return realtime_server


@pytest.fixture
async def api(live_server):
    client = Api(live_server.url)
    yield client
    await client.close()


@pytest.fixture
async def connect(realtime):
    """connect(auth) -> a connected RecordingClient; every client is disconnected after the test."""
    clients = []

    async def _connect(auth, *, url: str | None = None, **options) -> RecordingClient:
        client = RecordingClient(url or realtime.url)
        clients.append(client)
        await client.connect(auth, **options)
        return client

    yield _connect
    for client in clients:
        if client.sio.connected:
            await client.disconnect()
    # Tests read the database through sync_to_async's thread; its connection must not outlive the test database.
    await sync_to_async(connections.close_all)()


@pytest.fixture
def tokens(citizen, other_citizen, officer_a, officer_b, dispatcher, admin_user) -> dict:
    """API tokens of the personas, by persona name."""
    users = {"citizen": citizen, "other_citizen": other_citizen, "officer_a": officer_a, "officer_b": officer_b,
             "dispatcher": dispatcher, "admin": admin_user}
    return {name: api_token(user) for name, user in users.items()}
