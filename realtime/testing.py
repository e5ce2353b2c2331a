"""Test support for the realtime server: a real server process on free ports, and clients that record what they get."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import socketio
from django.db import connection

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

    def __init__(self, *, poll_interval: float = 30.0, prune_interval: float = 0, extra_env: dict | None = None):
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
        self.process: subprocess.Popen | None = None
        self.log_path = REPO / ".local" / f"realtime-test-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "RealtimeServer":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(REPO / "run_socketio.sh"), "--port", str(self.port), "--log-level", "warning"],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
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
        self.stop()
        raise RuntimeError(f"realtime server did not start in {timeout}s: {self.log_tail()}")

    def health(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
            return json.loads(response.read())

    def kill(self) -> None:
        """Die like a crash: no shutdown, connections cut."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

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
        self._changed = asyncio.Condition()
        self.sio.on("*", self._record)

    async def _record(self, event, data=None):
        self.events.append((event, data))
        async with self._changed:
            self._changed.notify_all()

    async def connect(self, auth: dict | None, *, transports=("websocket",)) -> "RecordingClient":
        await self.sio.connect(self.url, auth=auth, transports=list(transports), wait_timeout=10)
        return self

    async def disconnect(self) -> None:
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

    async def next(self, name: str, timeout: float = 10, **match) -> dict:
        """The first `name` event received after the ones already consumed by earlier `next` calls."""
        seen = getattr(self, "_consumed", {})
        start = seen.get(name, 0)

        def found(events):
            hits = [d for e, d in events if e == name and all(d.get(k) == v for k, v in match.items())]
            return hits[start] if len(hits) > start else None

        data = await self.wait_for(found, timeout)
        seen[name] = start + 1
        self._consumed = seen
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
        control = {"connection_established", "room_joined", "error", "resync_required"}
        return [(e, d) for e, d in self.events if e not in control]

    async def settle(self, seconds: float = 0.5) -> None:
        """Give stray events time to arrive before asserting that something did not."""
        await asyncio.sleep(seconds)


def is_strictly_increasing(ids: list[int]) -> bool:
    return all(a < b for a, b in zip(ids, ids[1:], strict=False))


def run_in_thread_for(func):
    """Run a blocking test helper (ORM, REST via requests) from async test code."""
    return asyncio.get_running_loop().run_in_executor(None, func)


__all__ = ["RealtimeServer", "RecordingClient", "database_env", "free_port", "is_strictly_increasing", "sys"]
