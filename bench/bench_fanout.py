"""Fan-out benchmark: the time for one event to reach N idle clients of one realtime process, and memory per client.

Starts the realtime server (uvicorn, as run_socketio.sh does) against a fresh SQLite database, connects N
WebSocket clients that join `sos_channel` with the `join` message (raw Engine.IO/Socket.IO v4 frames, spread
over several client processes so the clients are not the bottleneck), then raises SOS alerts one at a time
through the service, as the API would, and records when each client receives each `new_sos`. For each
event it takes the time from just before the commit to the receipt by every client (p50, p99 over all
deliveries) and to the last client ("all"). Memory per client is the server's RSS growth while the
clients connect and join, divided by N; "left" is what the RSS keeps after they all disconnect.

Each size is measured for the shipped fan-out (`current`) and the previous one (`baseline`: one
`sio.emit(to=[...])` per event) in alternating rounds, each round on a fresh server.

    .venv/bin/python bench/bench_fanout.py --clients 2000 5000 --events 5 --rounds 2
"""

import argparse
import asyncio
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[2000, 5000])
    parser.add_argument("--events", type=int, default=5, help="events per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per fan-out and size (alternating)")
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--client-worker", nargs=3, metavar=("URL", "TOKEN", "COUNT"), help=argparse.SUPPRESS)
    return parser.parse_args()


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


# A client process -------------------------------------------------------------------------------------


async def client_worker(url: str, token: str, count: int) -> None:
    """Hold `count` clients; print "ready" once all joined, then one line per event with receipt times."""
    import websockets

    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    receipts: dict[int, list[float]] = {}
    joined = failed = 0
    all_joined = asyncio.Event()
    stop = asyncio.Event()
    connecting = asyncio.Semaphore(100)  # handshakes in flight; more only time out on a busy machine

    async def one_client():
        nonlocal failed
        try:
            await client_session()
        except Exception as exc:  # noqa: BLE001 - reported, and the run stops
            failed += 1
            print(f"failed {type(exc).__name__}: {exc}", flush=True)
            all_joined.set()

    async def client_session():
        nonlocal joined
        await connecting.acquire()
        async with websockets.connect(ws_url, max_queue=None, ping_interval=None, open_timeout=120) as ws:
            await ws.recv()  # 0{"sid":...}: the Engine.IO handshake
            await ws.send("40" + json.dumps({"token": token}))
            async for frame in ws:
                if frame == "2":  # the server's ping
                    await ws.send("3")
                elif frame.startswith("40"):
                    await ws.send("42" + json.dumps(["join", {"rooms": [{"type": "sos_channel"}]}]))
                elif frame.startswith("42"):
                    name, message = json.loads(frame[2:])
                    if name == "rooms_joined":
                        connecting.release()
                        joined += 1
                        if joined == count:
                            all_joined.set()
                    elif name == "new_sos":
                        receipts.setdefault(message["event_id"], []).append(time.time())
                        if len(receipts[message["event_id"]]) == count:
                            print(json.dumps({"event_id": message["event_id"], "times": receipts.pop(message["event_id"])}),
                                  flush=True)
                if stop.is_set():
                    return

    tasks = [asyncio.create_task(one_client()) for _ in range(count)]
    await all_joined.wait()
    print("ready" if not failed else "failed", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # the parent says stop
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# The parent -----------------------------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))


def health(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/healthz", timeout=60) as response:
        return json.loads(response.read())


class Server:
    def __init__(self, env: dict, transport: str, logs: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(logs / f"realtime-{transport}-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.fanout_app:app", "--port", str(self.port), "--log-level",
             "warning", "--lifespan", "on", "--ws-max-queue", "1024"],
            cwd=REPO, env={**env, "FANOUT_TRANSPORT": transport}, stdout=log, stderr=subprocess.STDOUT,
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
        self.process.wait(timeout=30)


def measure(env: dict, transport: str, clients: int, args, token: str, logs: Path) -> dict:
    from asgiref.sync import async_to_sync  # noqa: F401  (Django is set up in main)

    from sos import services

    server = Server(env, transport, logs)
    try:
        rss_start = rss_kb(server.process.pid)
        per_worker = [clients // args.workers + (1 if i < clients % args.workers else 0) for i in range(args.workers)]
        started = time.monotonic()
        workers = [subprocess.Popen([sys.executable, __file__, "--client-worker", server.url, token, str(n)],
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
        deliveries, to_all = [], []
        for i in range(args.events):
            before = time.time()
            sos, _ = services.sos_create(name=f"fan-out {i}", sos_type=0, latitude=12.9, longitude=77.6)
            times = []
            for worker in workers:
                times += json.loads(worker.stdout.readline())["times"]
            assert len(times) == clients
            deliveries += [(t - before) * 1000 for t in times]
            to_all.append((max(times) - before) * 1000)
        for worker in workers:
            worker.stdin.write("stop\n")
            worker.stdin.flush()
            worker.wait(timeout=120)
        deadline = time.monotonic() + 60
        while health(server.url)["clients"] and time.monotonic() < deadline:
            time.sleep(0.2)
        rss_left = rss_kb(server.process.pid)
        return {
            "transport": transport, "clients": clients, "connect_s": round(connect_s, 1),
            "p50_ms": round(percentile(deliveries, 50), 1), "p99_ms": round(percentile(deliveries, 99), 1),
            "all_p50_ms": round(percentile(to_all, 50), 1), "all_max_ms": round(max(to_all), 1),
            "kb_per_client": round((rss_joined - rss_start) / clients, 1),
            "kb_left_per_client": round((rss_left - rss_start) / clients, 1),
        }
    finally:
        server.stop()


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
        url, token, count = args.client_worker
        asyncio.run(client_worker(url, token, int(count)))
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "naarikavach.settings", "DATABASE_URL": "",
           "SQLITE_PATH": str(workdir / "bench.sqlite3"), "REALTIME_NUDGE_ADDR": f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}",
           "REALTIME_POLL_INTERVAL": "1.0", "REALTIME_PRUNE_INTERVAL": "0", "LOG_LEVEL": "WARNING"}
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
            for transport in ("current", "baseline"):
                result = measure(env, transport, clients, args, token, workdir)
                print(json.dumps(result), flush=True)
                results.append(result)
    print(f"\nMachine: {machine()}; load average {os.getloadavg()[0]:.1f} at the end")
    print("| clients | fan-out | connect+join s | one event p50 / p99 ms | to the last client p50 / max ms | KB per client | KB kept after they leave |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['clients']:,} | {r['transport']} | {r['connect_s']} | {r['p50_ms']} / {r['p99_ms']} | "
              f"{r['all_p50_ms']} / {r['all_max_ms']} | {r['kb_per_client']} | {r['kb_left_per_client']} |")
    for clients in args.clients:
        cur = [r for r in results if r["clients"] == clients and r["transport"] == "current"]
        base = [r for r in results if r["clients"] == clients and r["transport"] == "baseline"]
        ratio = sum(b["p99_ms"] for b in base) / max(sum(c["p99_ms"] for c in cur), 1e-9)
        print(f"{clients:,} clients: baseline p99 / current p99 = {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
