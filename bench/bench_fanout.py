"""Fan-out benchmark: the time for one event to reach N idle clients of one realtime process, and memory per client.

Starts the realtime server (uvicorn, as run_socketio.sh does) against a fresh SQLite database, connects N
WebSocket clients that join `sos_channel` with the `join` message (raw Engine.IO/Socket.IO v4 frames, spread
over several client processes so the clients are not the bottleneck), then raises SOS alerts one at a time
through the service, as the API would, and records when each client receives each `new_sos`. For each
event it takes the time from just before the commit to the receipt by every client (p50, p99 over all
deliveries) and to the last client ("all"). Memory per client is the server's RSS growth while the
clients connect and join, divided by N; "left" is what the RSS keeps after they all disconnect.

It also takes the server's CPU time (user + system) per event, from just before the commit until every
client has it: on a shared machine, a steadier measure of the server's own cost than the latencies.

Each size is measured for the shipped fan-out (`direct`, see realtime_server/fanout.py) and the ones before
it (`queued`; optionally `emit`, see bench/fanout_app.py) in alternating rounds, each on a fresh server.
`--profile` adds a cProfile of the server during the events (not the connects), printed to stderr.

    .venv/bin/python bench/bench_fanout.py --clients 2000 5000 10000 --events 5 --rounds 2
"""

import argparse
import asyncio
import base64
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[2000, 5000])
    parser.add_argument("--events", type=int, default=5, help="events per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per fan-out and size (alternating)")
    parser.add_argument("--waves", type=int, default=1,
                        help="crowds brought to the same server one after another (memory kept after each)")
    parser.add_argument("--holders", metavar="TYPE",
                        help="after the last wave, print what holds one live object of this type (e.g. AsyncSocket)")
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--no-deflate", action="store_true", help="clients do not offer permessage-deflate")
    parser.add_argument("--no-ws-keepalive", action="store_true",
                        help="uvicorn sends no WebSocket pings (Engine.IO's pings remain): on an overloaded machine "
                             "its 20 s pong deadline can drop clients while thousands connect")
    parser.add_argument("--transports", nargs="+", default=["direct", "queued"],
                        help="fan-outs to alternate: direct (shipped), queued (before), emit (sio.emit)")
    parser.add_argument("--leave-paths", nargs="+", default=["shipped"],
                        help="disconnect paths to alternate: shipped, before (python-socketio's own client manager "
                             "and a memory return at each halving of the clients; see bench/fanout_app.py)")
    parser.add_argument("--profile-leave", action="store_true",
                        help="cProfile the server while the clients all leave at once; printed to stderr")
    parser.add_argument("--profile", action="store_true",
                        help="run the server under cProfile; its stats are written next to its log")
    # The token travels in the environment: one that begins with "-" would read as an option.
    parser.add_argument("--client-worker", nargs=2, metavar=("URL", "COUNT"), help=argparse.SUPPRESS)
    return parser.parse_args()


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


# A client process -------------------------------------------------------------------------------------
#
# python-socketio clients (a task or two each, and a full WebSocket library) would be slower than the server:
# these are raw asyncio protocols speaking just enough WebSocket, Engine.IO v4 and Socket.IO v4 framing to
# sign in, join and time each `new_sos`. They offer permessage-deflate, as browsers do, so the server
# compresses what it sends through its ordinary path and the clients inflate it.

ZERO_MASK = b"\x00\x00\x00\x00"  # a mask key of zeros leaves the payload as it is (valid, if not random)


def client_frame(data: str | bytes, opcode: int = 0x1) -> bytes:
    payload = data.encode() if isinstance(data, str) else data
    size = len(payload)
    if size < 126:
        header = bytes((0x80 | opcode, 0x80 | size))
    elif size < 1 << 16:
        header = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    return header + ZERO_MASK + payload


class BenchClient(asyncio.Protocol):
    def __init__(self, worker: "ClientWorker"):
        self.worker = worker
        self.transport = None
        self.buffer = b""
        self.upgraded = False
        self.inflate = None

    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        extensions = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" \
            if self.worker.deflate else ""
        transport.write((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {self.worker.host}\r\n"
                         f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                         f"Sec-WebSocket-Version: 13\r\n{extensions}\r\n").encode())

    def data_received(self, data):
        now = time.time()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            if not head.startswith(b"HTTP/1.1 101"):
                self.worker.failed(f"handshake: {head[:80]!r}")
                return
            self.upgraded = True
            if b"permessage-deflate" in head.lower():
                self.inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        buffer = self.buffer
        while len(buffer) >= 2:
            first, size = buffer[0], buffer[1] & 0x7F
            at = 2
            if size == 126:
                if len(buffer) < 4:
                    break
                size, at = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                if len(buffer) < 10:
                    break
                size, at = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < at + size:
                break
            payload, buffer = buffer[at:at + size], buffer[at + size:]
            opcode = first & 0x0F
            if opcode == 0x9:  # WebSocket ping
                self.transport.write(client_frame(payload, 0xA))  # pong: the ping's payload, byte for byte
            elif opcode == 0x1:
                if first & 0x40:  # compressed (RSV1)
                    payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
                self.message(payload.decode(), now)
            elif opcode == 0x8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                self.worker.failed(f"closed by the server ({code} {payload[2:].decode(errors='replace')})")
        self.buffer = buffer

    def message(self, text: str, now: float):
        if text == "2":  # Engine.IO ping
            self.transport.write(client_frame("3"))
        elif text.startswith("0"):  # Engine.IO open
            self.transport.write(client_frame("40" + json.dumps({"token": self.worker.token})))
        elif text.startswith("40"):
            self.transport.write(client_frame("42" + json.dumps(["join", {"rooms": [{"type": "sos_channel"}]}])))
        elif text.startswith("42"):
            if text.startswith('42["new_sos"'):
                self.worker.received(json.loads(text[2:])[1]["event_id"], now)
            elif text.startswith('42["rooms_joined"'):
                self.worker.joined()

    def connection_lost(self, exc):
        if not self.worker.stopping:
            self.worker.failed(f"connection lost: {exc}")


class ClientWorker:
    """Holds `count` clients; prints "ready" once all joined, then one line per event with receipt times."""

    def __init__(self, url: str, token: str, count: int, deflate: bool):
        self.host, self.port = url.removeprefix("http://").split(":")
        self.port = int(self.port)
        self.token, self.count, self.deflate = token, count, deflate
        self.receipts: dict[int, list[float]] = {}
        self.joined_count = 0
        self.all_joined = asyncio.Event()
        self.connecting = asyncio.Semaphore(100)  # handshakes in flight; more only time out on a busy machine
        self.stopping = False
        self.failure = None

    def failed(self, why: str):
        if self.failure is None:
            self.failure = why
            print(f"failed {why}", flush=True)
        self.all_joined.set()

    def joined(self):
        self.connecting.release()
        self.joined_count += 1
        if self.joined_count == self.count:
            self.all_joined.set()

    def received(self, event_id: int, now: float):
        times = self.receipts.setdefault(event_id, [])
        times.append(now)
        if len(times) == self.count:
            print(json.dumps({"event_id": event_id, "times": self.receipts.pop(event_id)}), flush=True)

    async def run(self):
        loop = asyncio.get_running_loop()
        clients = []
        for _ in range(self.count):
            await self.connecting.acquire()
            if self.failure:
                break
            _, client = await loop.create_connection(lambda: BenchClient(self), self.host, self.port)
            clients.append(client)
        await self.all_joined.wait()
        print("ready" if not self.failure else "failed", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)  # the parent says stop
        self.stopping = True
        for client in clients:
            client.transport.close()


# The parent -----------------------------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))


def health(url: str, detail: str = "") -> dict:
    with urllib.request.urlopen(f"{url}/healthz{detail}", timeout=60) as response:
        return json.loads(response.read())


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, env: dict, transport: str, logs: Path, profile: Path | None = None, keepalive: bool = True,
                 leave: str = "shipped"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(logs / f"realtime-{transport}-{self.port}.log", "ab")
        extra = {"FANOUT_TRANSPORT": transport, "FANOUT_LEAVE": leave,
                 **({"FANOUT_PROFILE": str(profile)} if profile else {})}
        # uvicorn as run_realtime runs it (uvloop, httptools, its default WebSocket protocol).
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.fanout_app:app", "--port", str(self.port), "--log-level",
             "warning", "--lifespan", "on", *(["--ws-ping-interval", "0"] if not keepalive else [])],
            cwd=REPO, env={**env, **extra}, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                health(self.url)
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"realtime server did not start (see {logs})") from None
                time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


def measure(env: dict, transport: str, clients: int, args, token: str, logs: Path, leave: str = "shipped") -> dict:
    profile = logs / f"profile-{transport}-{clients}-{time.time():.0f}.prof" if args.profile or args.profile_leave \
        else None
    server = Server(env, transport, logs, profile, keepalive=not args.no_ws_keepalive, leave=leave)
    try:
        rss_start = rss_kb(server.process.pid)
        # Later waves (--waves) bring the same number of clients to the same server again: memory kept after
        # each wave that keeps growing is held by something (a leak); memory that stays level is reused.
        waves, objects = [], []
        for _ in range(args.waves):
            waves.append(crowd_wave(server, clients, args, token, env, profile, transport, leave, rss_start))
            if args.waves > 1:  # what the server holds after each crowd has gone
                with urllib.request.urlopen(f"{server.url}/bench/objects", timeout=120) as answer:
                    objects.append(json.load(answer))
        if args.holders:
            with urllib.request.urlopen(f"{server.url}/bench/holders?{args.holders}", timeout=120) as answer:
                print(f"what holds a live {args.holders}:", *json.load(answer), sep="\n  ", file=sys.stderr)
        if len(objects) > 1:
            grown = {kind: objects[-1].get(kind, 0) - objects[0].get(kind, 0) for kind in objects[-1]}
            print("objects grown from the first wave's end to the last's:",
                  {kind: n for kind, n in sorted(grown.items(), key=lambda kv: -kv[1]) if n > 0}, file=sys.stderr)
        return {**waves[0], "kb_left_by_wave": [wave["kb_left_per_client"] for wave in waves]}
    finally:
        server.stop()


def crowd_wave(server, clients: int, args, token: str, env: dict, profile: Path | None, transport: str, leave: str,
               rss_start: int) -> dict:
    """N clients connect and join, get the events and all leave; the figures of that."""
    from sos import services

    per_worker = [clients // args.workers + (1 if i < clients % args.workers else 0) for i in range(args.workers)]
    started = time.monotonic()
    flags = ["--no-deflate"] if args.no_deflate else []
    workers = [subprocess.Popen([sys.executable, __file__, "--client-worker", server.url, str(n), *flags],
                                env={**env, "BENCH_FANOUT_TOKEN": token},
                                cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for n in per_worker if n]
    for worker in workers:
        line = worker.stdout.readline().strip()
        while line.startswith("failed "):
            print(line, file=sys.stderr)
            line = worker.stdout.readline().strip()
        if line != "ready":
            for other in workers:
                other.kill()
            raise RuntimeError(f"clients could not all connect and join ({line})")
    connect_s = time.monotonic() - started
    rss_joined = rss_kb(server.process.pid)
    deliveries, to_all, server_cpu = [], [], []
    if profile and args.profile:
        urllib.request.urlopen(f"{server.url}/bench/profile/start", timeout=60).close()
    for i in range(args.events):
        cpu_before = cpu_s(server.process.pid)
        before = time.time()
        sos, _ = services.sos_create(name=f"fan-out {i}", sos_type=0, latitude=12.9, longitude=77.6)
        times = []
        for worker in workers:
            times += json.loads(worker.stdout.readline())["times"]
        server_cpu.append((cpu_s(server.process.pid) - cpu_before) * 1000)
        assert len(times) == clients
        deliveries += [(t - before) * 1000 for t in times]
        to_all.append((max(times) - before) * 1000)
    if profile and args.profile:
        urllib.request.urlopen(f"{server.url}/bench/profile/stop", timeout=60).close()
        print_profile(profile, transport, clients)
    returns_before = health(server.url, "/detail")["memory_returns"]
    if profile and args.profile_leave:
        urllib.request.urlopen(f"{server.url}/bench/profile/start", timeout=60).close()
    for worker in workers:
        worker.stdin.write("stop\n")
        worker.stdin.flush()
        worker.wait(timeout=120)
    # After they leave: what memory the server keeps, and how long it took to be rid of them (it answers
    # nothing else meanwhile), and the slowest answer to /healthz/detail meanwhile. Measured within 5 minutes,
    # or reported as not measured.
    left_started, rss_left, left_s, slowest_health = time.monotonic(), None, None, 0.0
    while time.monotonic() - left_started < 300:
        try:
            asked = time.monotonic()
            answer = health(server.url, "/detail")
            slowest_health = max(slowest_health, time.monotonic() - asked)
            if not answer["clients"]:
                left_s = round(time.monotonic() - left_started, 1)
                # The memory kept: read once memory has been given back twice (the shipped path returns it
                # when the clients have stopped leaving for 2 s, then again once Engine.IO has let go of
                # their sockets, 27 s later), or after 40 s.
                returned = time.monotonic()
                while (health(server.url, "/detail")["memory_returns"] < returns_before + 2
                       and time.monotonic() - returned < 40):
                    time.sleep(0.2)
                rss_left = rss_kb(server.process.pid)
                break
        except OSError:
            pass  # too busy to answer within a minute
        time.sleep(0.2)
    if profile and args.profile_leave:
        urllib.request.urlopen(f"{server.url}/bench/profile/stop", timeout=60).close()
        print_profile(profile, f"{transport}, {leave} disconnect path", clients, during="the mass disconnect")
    return {
        "transport": transport, "leave": leave, "clients": clients, "connect_s": round(connect_s, 1),
        "p50_ms": round(percentile(deliveries, 50), 1), "p99_ms": round(percentile(deliveries, 99), 1),
        "all_p50_ms": round(percentile(to_all, 50), 1), "all_max_ms": round(max(to_all), 1),
        "server_cpu_ms": round(percentile(server_cpu, 50), 1),
        "kb_per_client": round((rss_joined - rss_start) / clients, 1),
        "kb_left_per_client": round((rss_left - rss_start) / clients, 1) if rss_left else None,
        "all_left_s": left_s, "slowest_health_ms": round(slowest_health * 1000),
    }


def print_profile(path: Path, what: str, clients: int, during: str = "the events") -> None:
    import pstats

    print(f"\nProfile of the server during {during} ({what}, {clients:,} clients), by own time:", file=sys.stderr)
    pstats.Stats(str(path), stream=sys.stderr).sort_stats("tottime").print_stats(15)


def machine() -> str:
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = re.search(r"Model name:\s+(.*)", cpu)
    flags = re.search(r"Flags:\s+(.*)", cpu)
    wanted = sorted(f for f in (flags.group(1).split() if flags else []) if f == "avx2" or f.startswith(("avx512", "amx"))
                    or "vnni" in f)
    return f"{model.group(1) if model else platform.processor()}, {os.cpu_count()} cores, flags {' '.join(wanted)}"


def main() -> int:
    args = parse_args()
    if args.client_worker:
        (url, count), token = args.client_worker, os.environ["BENCH_FANOUT_TOKEN"]
        try:
            import uvloop
            uvloop.install()
        except ImportError:
            pass
        asyncio.run(ClientWorker(url, token, int(count), deflate=not args.no_deflate).run())
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "naarikavach.settings", "DATABASE_URL": "",
           "SQLITE_PATH": str(workdir / "bench.sqlite3"), "REALTIME_NUDGE_ADDR": f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}",
           "REALTIME_POLL_INTERVAL": "1.0", "REALTIME_PRUNE_INTERVAL": "0", "LOG_LEVEL": "WARNING",
           # Thousands of clients connecting at once on a busy machine take longer than the 10 s a session
           # is given to sign in; the bench measures the fan-out, not that guard.
           "REALTIME_AUTH_TIMEOUT_SECONDS": "300"}
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from accounts.services import token_issue

    call_command("migrate", verbosity=0)
    dispatcher, _ = User.objects.get_or_create(username="bench-dispatcher", defaults={"role": User.Role.DISPATCHER})
    token = token_issue(user=dispatcher)
    results = []
    for clients in args.clients:
        for _ in range(args.rounds):
            for transport in args.transports:
                for leave in args.leave_paths:
                    result = measure(env, transport, clients, args, token, workdir, leave)
                    print(json.dumps(result), flush=True)
                    results.append(result)
    print(f"\nMachine: {machine()}; load average {os.getloadavg()[0]:.1f} at the end")
    if args.waves > 1:
        for r in results:
            print(f"{r['clients']:,} clients, {r['transport']}, {r['leave']}: KB per client kept after each wave: "
                  + " / ".join(str(kb) for kb in r["kb_left_by_wave"]))
    print("| clients | fan-out | disconnect path | connect+join s | one event p50 / p99 ms | "
          "to the last client p50 / max ms | "
          "server CPU ms per event | KB per client | KB kept after they leave | all gone after s | "
          "slowest /healthz/detail meanwhile ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['clients']:,} | {r['transport']} | {r['leave']} | {r['connect_s']} | "
              f"{r['p50_ms']} / {r['p99_ms']} | "
              f"{r['all_p50_ms']} / {r['all_max_ms']} | {r['server_cpu_ms']} | {r['kb_per_client']} | "
              f"{r['kb_left_per_client']} | {r['all_left_s']} | {r['slowest_health_ms']} |")
    shipped, *baselines = args.transports
    for clients in args.clients:
        cur = [r for r in results if r["clients"] == clients and r["transport"] == shipped]
        for baseline in baselines:
            base = [r for r in results if r["clients"] == clients and r["transport"] == baseline]
            if not cur or not base:
                continue
            p99 = sum(b["p99_ms"] for b in base) / max(sum(c["p99_ms"] for c in cur), 1e-9)
            cpu = sum(b["server_cpu_ms"] for b in base) / max(sum(c["server_cpu_ms"] for c in cur), 1e-9)
            print(f"{clients:,} clients: {baseline} / {shipped}: p99 {p99:.2f}x, server CPU per event {cpu:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
