"""Realtime benchmark: latency from a REST call to its Socket.IO receipt, with 1,000 clients under 100 points/s.

Starts the API server (run_server.sh: gunicorn) and the realtime server (run_socketio.sh) on loopback against
a fresh database, connects the socket clients (100 on sos_channel, the rest three to an SOS room: its owner
with the access token and two officers), then for a fixed time posts location points and raises SOS alerts
over REST at fixed rates, and measures, for every client that should receive each event, the time from just
before the REST call to the receipt. Reports p50/p95/p99 and how many deliveries were lost or duplicated
(must be 0).

    .venv/bin/python bench/bench_realtime.py                      # SQLite, the defaults below
    .venv/bin/python bench/bench_realtime.py --database-url postgres://postgres@127.0.0.1:5432/naarikavach_bench
    .venv/bin/python bench/bench_realtime.py --rate 40 --sos-rate 1  # a lighter load
    .venv/bin/python bench/bench_realtime.py --api-asgi           # then the same load on the old ASGI serving

It prints the figures as JSON and as a block for docs/benchmarks.md, keeps the servers' logs in
.local/bench_realtime/, and exits 1 if any delivery was lost, duplicated or out of order. A PostgreSQL
database named in --database-url is dropped and created afresh.
"""

import argparse
import asyncio
import gc
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def add_server_arguments(parser) -> None:
    """What Servers reads: how the API is served, and which database."""
    parser.add_argument("--api-workers", type=int, default=None,
                        help="gunicorn worker processes of the API (default: run_server.sh's API_WORKERS)")
    parser.add_argument("--api-threads", type=int, default=None,
                        help="threads per worker (default: run_server.sh's API_THREADS)")
    parser.add_argument("--api-access-log", action="store_true",
                        help="keep gunicorn's access log (to api.log); off by default, as it costs CPU per request")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: a fresh SQLite file)")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="socket clients in all")
    parser.add_argument("--channel-clients", type=int, default=100, help="of which on sos_channel")
    parser.add_argument("--per-room", type=int, default=3, help="clients in each SOS room")
    parser.add_argument("--rate", type=float, default=100, help="location points posted per second")
    parser.add_argument("--sos-rate", type=float, default=2, help="SOS alerts raised per second")
    parser.add_argument("--duration", type=float, default=30, help="seconds of load")
    add_server_arguments(parser)
    parser.add_argument("--api-asgi", action="store_true",
                        help="after run_server.sh, repeat the load (same clients, same realtime server) against the "
                             "old serving, uvicorn naarikavach.asgi in one process, and report both")
    return parser.parse_args()


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] if ordered else float("nan")


# Setup ------------------------------------------------------------------------------------------------


def configure_environment(args, workdir: Path) -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": "naarikavach.settings",
        "REALTIME_NUDGE_ADDR": f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}",
        "THROTTLE_SOS_CREATE": "1000000/min",
        "THROTTLE_SOS_LOCATION": "1000000/min",
        "LOG_LEVEL": "WARNING",
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
        create_postgres_database(args.database_url)
    else:
        env["DATABASE_URL"] = ""
        env["SQLITE_PATH"] = str(workdir / "bench.sqlite3")
    os.environ.update(env)
    return env


def create_postgres_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def prepare_data(sos_count: int) -> dict:
    """Migrate the fresh database and create a dispatcher and the SOS alerts the room clients follow."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from accounts.models import User
    from accounts.services import token_issue
    from sos import services

    call_command("migrate", verbosity=0)
    dispatcher, _ = User.objects.get_or_create(username="bench-dispatcher", defaults={"role": User.Role.DISPATCHER})
    alerts = []
    for i in range(sos_count):
        sos, token = services.sos_create(name=f"bench room {i}", sos_type=0, latitude=12.9, longitude=77.6)
        alerts.append({"sos_id": sos.pk, "room_id": str(sos.room_id), "access_token": token})
    data = {"token": token_issue(user=dispatcher), "alerts": alerts}
    connections.close_all()
    return data


def cpu_seconds(session: int | None = None, command: str | None = None) -> float:
    """User+system CPU of the live processes of a session (a server started with start_new_session), or
    of every process running `command` (such as postgres)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, fields = stat.read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, IndexError):
            continue
        fields = fields.split()
        if int(fields[3]) == session or name == command:  # field 6 of /proc/PID/stat: the session id
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used (all cores), from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_for(url: str, logs: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up; see the logs in {logs}")


def run_server_default(name: str) -> str:
    """A setting's default as run_server.sh spells it (`${API_WORKERS:-2}`), for the report."""
    match = re.search(r"\$\{" + name + r":-([^}]*)\}", (REPO / "run_server.sh").read_text())
    return match.group(1) if match else "?"


def api_label(api: str, args) -> str:
    if api == "asgi":
        return "uvicorn naarikavach.asgi (ASGI, the old run_server.sh), 1 process"
    workers = args.api_workers or os.environ.get("API_WORKERS") or run_server_default("API_WORKERS")
    threads = args.api_threads or os.environ.get("API_THREADS") or run_server_default("API_THREADS")
    return f"run_server.sh: gunicorn {workers} workers x {threads} threads"


class Servers:
    def __init__(self, env: dict, workdir: Path, args):
        self.rt_port = free_port()
        self.env, self.workdir, self.args = {**os.environ, **env}, workdir, args
        self.api = self.realtime = None

    def _spawn(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        return subprocess.Popen(command, cwd=REPO, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start_realtime(self) -> None:
        command = [str(REPO / "run_socketio.sh"), "--port", str(self.rt_port), "--log-level", "warning"]
        self.realtime = self._spawn("realtime", command, {})
        wait_for(f"{self.rt_url}/healthz", self.workdir)

    def start_api(self, api: str) -> None:
        """Start the API server: run_server.sh ("gunicorn"), or the old uvicorn ASGI serving ("asgi")."""
        self.api_port = free_port()
        if api == "asgi":
            # Django's ASGI handler runs each sync view in a thread of its own, and a persistent connection
            # is kept per request context, not per thread: with DB_CONN_MAX_AGE > 0 it opens connections
            # faster than they age out (PostgreSQL: "too many clients").
            command = [sys.executable, "-m", "uvicorn", "naarikavach.asgi:application", "--port", str(self.api_port),
                       "--log-level", "warning", "--no-access-log"]
            env = {"DB_CONN_MAX_AGE": "0"} if self.args.database_url else {}
        else:
            command = [str(REPO / "run_server.sh")]
            # The access log costs CPU on every request; the bench leaves it off unless asked.
            env = {"API_PORT": str(self.api_port), "API_ACCESS_LOG": "-" if self.args.api_access_log else ""}
            if self.args.api_workers:
                env["API_WORKERS"] = str(self.args.api_workers)
            if self.args.api_threads:
                env["API_THREADS"] = str(self.args.api_threads)
        self.api = self._spawn(f"api-{api}", command, env)
        wait_for(f"{self.api_url}/api/schema/", self.workdir)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def rt_url(self) -> str:
        return f"http://127.0.0.1:{self.rt_port}"

    def cpu(self) -> dict:
        used = {"api": cpu_seconds(self.api.pid), "realtime": cpu_seconds(self.realtime.pid),
                "bench_clients": sum(resource.getrusage(resource.RUSAGE_SELF)[:2])}
        if self.args.database_url:
            used["postgres"] = cpu_seconds(command="postgres")  # every database on the server, not only ours
        return {**used, "machine": machine_busy_seconds()}

    def realtime_stats(self) -> dict:
        return json.loads(urllib.request.urlopen(f"{self.rt_url}/healthz/detail", timeout=5).read())

    def stop_api(self) -> None:
        self._stop(self.api)
        self.api = None

    def stop(self) -> None:
        for process in (self.api, self.realtime):
            self._stop(process)

    @staticmethod
    def _stop(process: subprocess.Popen | None) -> None:
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# The run ----------------------------------------------------------------------------------------------


class Ledger:
    """When each event was sent (over REST), against which API server, and when each client got it."""

    def __init__(self):
        self.sent_at: dict = {}
        self.written_at: dict = {}  # when the API wrote the event's outbox row
        self.api_of: dict = {}  # which API server took the REST call
        self.expected: dict = {}
        self.received: dict = defaultdict(list)
        self.rest_ms: dict[str, list[float]] = defaultdict(list)
        self.out_of_order = 0  # events a client got with an id not above the previous one it got
        self.rest_failures: dict[str, Counter] = defaultdict(Counter)

    def receive(self, key) -> None:
        # Wall-clock time, comparable with the outbox rows' created_at written by the API process.
        self.received[key].append(time.time())

    def latencies(self, api: str, kind: str | None = None, since: dict | None = None) -> list[float]:
        since = self.sent_at if since is None else since
        return [(t - since[key]) * 1000 for key, times in self.received.items()
                if key in self.expected and key in since and self.api_of.get(key) == api
                and (kind is None or key[0] == kind) for t in times]

    def read_outbox_times(self) -> None:
        """When each event's outbox row was written: delivery latency, without the REST call's own time."""
        from realtime.models import OutboxEvent

        rows = OutboxEvent.objects.filter(event__in=["new_sos", "location_history"]).values_list(
            "event", "payload", "created_at")
        for event, payload, created_at in rows.iterator():
            key = (("sos", payload["name"]) if event == "new_sos"
                   else ("point", payload["sos_id"], round(payload["latitude"], 6)))
            self.written_at[key] = created_at.timestamp()

    def _expected(self, api: str | None):
        return ((key, n) for key, n in self.expected.items() if api is None or self.api_of[key] == api)

    def expected_count(self, api: str | None = None) -> int:
        return sum(n for _, n in self._expected(api))

    def lost(self, api: str | None = None) -> int:
        return sum(max(0, n - len(self.received.get(key, []))) for key, n in self._expected(api))

    def duplicated(self, api: str | None = None) -> int:
        return sum(max(0, len(self.received.get(key, [])) - n) for key, n in self._expected(api))


async def connect_clients(args, data: dict, url: str, ledger: Ledger) -> list:
    import socketio

    plans = [({"token": data["token"]}, "join_sos_channel", {}) for _ in range(args.channel_clients)]
    for i in range(args.clients - args.channel_clients):
        alert = data["alerts"][i // args.per_room]
        alert["clients"] = alert.get("clients", 0) + 1
        auth = {"sos_token": alert["access_token"]} if i % args.per_room == 0 else {"token": data["token"]}
        plans.append((auth, "join_sos_room", {"room_id": alert["room_id"]}))

    async def start(auth, event, payload):
        client = socketio.AsyncClient(reconnection=False)
        joined = asyncio.get_running_loop().create_future()
        last_id = [0]

        def in_order(message):
            if message["event_id"] <= last_id[0]:
                ledger.out_of_order += 1
            last_id[0] = message["event_id"]

        async def new_sos(message):
            in_order(message)
            ledger.receive(("sos", message["name"]))

        async def location(message):
            in_order(message)
            if "latitude" in message:  # not the trail sent on joining
                ledger.receive(("point", message["sos_id"], round(message["latitude"], 6)))

        client.on("room_joined", lambda message: joined.done() or joined.set_result(message))
        client.on("error", lambda message: joined.done() or joined.set_exception(RuntimeError(message)))
        client.on("new_sos", new_sos)
        client.on("location_history", location)
        await client.connect(url, auth=auth, transports=["websocket"], wait_timeout=30)
        await client.emit(event, payload)
        await asyncio.wait_for(joined, 30)
        return client

    clients = []
    for batch in range(0, len(plans), 50):
        clients += await asyncio.gather(*(start(*plan) for plan in plans[batch:batch + 50]))
    return clients


async def run_load(args, data: dict, api_url: str, ledger: Ledger, api: str, first: int) -> None:
    """Post points and raise alerts at the set rates; `first` keeps each API server's events apart."""
    import aiohttp

    alerts = data["alerts"]
    async with aiohttp.ClientSession(api_url, connector=aiohttp.TCPConnector(limit=64)) as http:

        async def post(path, body, key, recipients, headers=None):
            ledger.sent_at[key], ledger.api_of[key] = time.time(), api
            started = time.perf_counter()
            try:
                async with http.post(path, json=body, headers=headers) as response:
                    await response.read()
                    outcome = str(response.status)
            except aiohttp.ClientError as exc:
                outcome = type(exc).__name__
            ledger.rest_ms[api].append((time.perf_counter() - started) * 1000)
            if outcome == "201":
                ledger.expected[key] = recipients
            else:
                ledger.rest_failures[api][outcome] += 1

        def point(i):
            i += first
            alert = alerts[i % len(alerts)]
            latitude = round(10 + i * 1e-5, 6)
            body = {"sos_request": alert["sos_id"], "latitude": latitude, "longitude": 77.6}
            return post("/api/update-location/", body, ("point", alert["sos_id"], latitude), alert["clients"],
                        {"X-SOS-Token": alert["access_token"]})

        def alert(i):
            name = f"bench alert {first + i}"
            body = {"name": name, "sos_type": 0, "initial_latitude": 12.9, "initial_longitude": 77.6}
            return post("/api/create-sos/", body, ("sos", name), args.channel_clients)

        await asyncio.gather(at_rate(args.rate, args.duration, point), at_rate(args.sos_rate, args.duration, alert))


async def at_rate(rate: float, duration: float, make) -> None:
    """Open loop: start a request every 1/rate seconds whether or not earlier ones have finished."""
    if rate <= 0:
        return
    tasks, start, i = [], time.perf_counter(), 0
    while (due := start + i / rate) < start + duration:
        await asyncio.sleep(max(0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(make(i)))
        i += 1
    await asyncio.gather(*tasks)


def summary(ms: list[float]) -> dict:
    return {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99),
            "max": max(ms) if ms else float("nan"), "samples": len(ms)}


async def measure(args, data: dict, servers: Servers, apis: list[str]) -> dict:
    ledger = Ledger()
    began = time.perf_counter()
    clients = await connect_clients(args, data, servers.rt_url, ledger)
    connect_seconds = time.perf_counter() - began
    gc.collect()
    gc.freeze()  # the clients live until the end: leave them out of later collections
    load_average = {}
    cpu = {}
    for index, api in enumerate(apis):
        await asyncio.to_thread(servers.start_api, api)
        before = servers.cpu(), time.perf_counter()
        # The clients' own garbage collections would pause every receipt and response in flight (a full
        # collection of this process's 1,000 clients took 150-230 ms): none while measuring.
        gc.disable()
        try:
            await run_load(args, data, servers.api_url, ledger, api, first=index * 100_000)
        finally:
            gc.enable()
        # Where the cores went while the load ran: each process's share of one core, and the machine's
        # (the database, and whatever else runs on the machine, are only in the last).
        elapsed = time.perf_counter() - before[1]
        cpu[api] = {name: round((used - before[0][name]) / elapsed, 2) for name, used in servers.cpu().items()}
        # The kernel's own work (loopback networking), and whatever else runs on the machine.
        cpu[api]["rest of machine"] = round(cpu[api]["machine"] - sum(
            share for name, share in cpu[api].items() if name != "machine"), 2)
        deadline = time.perf_counter() + 10
        while ledger.lost(api) and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        load_average[api] = os.getloadavg()
        await asyncio.to_thread(servers.stop_api)
    stats = servers.realtime_stats()
    await asyncio.gather(*(client.disconnect() for client in clients), return_exceptions=True)
    await asyncio.to_thread(ledger.read_outbox_times)
    results = {}
    for api in apis:
        results[api] = {
            "api": api_label(api, args),
            "location_posts": sum(1 for k in ledger.expected if k[0] == "point" and ledger.api_of[k] == api),
            "sos_raised": sum(1 for k in ledger.expected if k[0] == "sos" and ledger.api_of[k] == api),
            "rest_failures": dict(ledger.rest_failures[api]),
            "deliveries_expected": ledger.expected_count(api),
            "lost": ledger.lost(api), "duplicated": ledger.duplicated(api),
            "latency_ms": {"all": summary(ledger.latencies(api)), "new_sos": summary(ledger.latencies(api, "sos")),
                           "location_history": summary(ledger.latencies(api, "point")),
                           "from_outbox_write": summary(ledger.latencies(api, since=ledger.written_at))},
            "rest_ms": summary(ledger.rest_ms[api]),
            "load_average": load_average[api],
            "cores_used": cpu[api],
        }
    return {"clients": len(clients), "connect_seconds": connect_seconds, "out_of_order": ledger.out_of_order,
            "runs": results, "server": stats}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    memory = ""
    if Path("/proc/meminfo").exists():
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory, "os": platform.platform(),
            "python": platform.python_version()}


def report(args, result: dict, backend: str) -> str:
    """The run as blocks for docs/benchmarks.md: one per API server, then their ratio."""

    def row(name, s):
        return f"| {name} | {s['samples']} | {s['p50']:.1f} | {s['p95']:.1f} | {s['p99']:.1f} | {s['max']:.1f} |"

    lines = []
    for run in result["runs"].values():
        lat = run["latency_ms"]
        failures = ", ".join(f"{n}× {why}" for why, n in run["rest_failures"].items())
        lines += [
            f"#### {backend}, API {run['api']}: {args.rate:g} points/s and {args.sos_rate:g} alerts/s over REST, "
            f"{result['clients']} clients, {args.duration:g} s (load average after: "
            f"{', '.join(f'{x:.1f}' for x in run['load_average'])})",
            "",
            "| Measured from → to each client | Deliveries | p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---|---|---|---|---|",
            row("REST call → `new_sos` (sos_channel)", lat["new_sos"]),
            row("REST call → `location_history` (SOS room)", lat["location_history"]),
            row("REST call → any (all of the above)", lat["all"]),
            row("outbox row written → any (realtime delivery alone)", lat["from_outbox_write"]),
            row("the REST call itself (request → response)", run["rest_ms"]),
            "",
            f"Lost: **{run['lost']}** of {run['deliveries_expected']} deliveries; duplicated: {run['duplicated']}."
            f" REST: {run['location_posts']} points and {run['sos_raised']} alerts accepted"
            f"{f', failed: {failures}' if failures else ''}. Cores in use during the load: "
            + ", ".join(f"{name} {share:.2f}" for name, share in run["cores_used"].items()) + ".",
            "",
        ]
    if len(result["runs"]) == 2:
        new, old = (result["runs"][api] for api in ("gunicorn", "asgi"))
        ratio = lambda pick, p: pick(old)[p] / pick(new)[p]  # noqa: E731
        lines += [
            "The old ASGI serving over run_server.sh, same run (×: how many times longer under ASGI): REST call → "
            "any p50 / p99 " + " / ".join(f"{ratio(lambda r: r['latency_ms']['all'], p):.1f}×" for p in ("p50", "p99"))
            + "; the REST call alone p50 / p99 "
            + " / ".join(f"{ratio(lambda r: r['rest_ms'], p):.1f}×" for p in ("p50", "p99")) + ".",
            "",
        ]
    lines.append(f"Out of order (all runs): {result['out_of_order']}. Connecting and joining all clients: "
                 f"{result['connect_seconds']:.1f} s.")
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Each client holds a socket here and one in the server (which inherits this limit).
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.clients + 256)), hard))
    room_clients = args.clients - args.channel_clients
    apis = ["gunicorn", "asgi"] if args.api_asgi else ["gunicorn"]
    with tempfile.TemporaryDirectory(prefix="bench-realtime-") as tmp:
        workdir = Path(tmp)
        env = configure_environment(args, workdir)
        data = prepare_data(sos_count=-(-room_clients // args.per_room))
        servers = Servers(env, workdir, args)
        try:
            servers.start_realtime()
            try:
                import uvloop

                uvloop.install()
            except ImportError:
                pass
            result = asyncio.run(measure(args, data, servers, apis))
        finally:
            servers.stop()
            # Keep the servers' logs (a failed REST call's traceback is in api-*.log).
            logs = REPO / ".local" / "bench_realtime"
            logs.mkdir(parents=True, exist_ok=True)
            for log in workdir.glob("*.log"):
                shutil.copy(log, logs / log.name)
    backend = "PostgreSQL" if args.database_url else "SQLite (WAL)"
    print(json.dumps({"machine": machine(), "database": backend, **result}, indent=2))
    print(report(args, result, backend))
    clean = all(run["lost"] == run["duplicated"] == 0 for run in result["runs"].values())
    return 0 if clean and result["out_of_order"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
