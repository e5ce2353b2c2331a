"""API write capacity: location points per second the API server takes, per gunicorn workers x threads.

Starts the API (run_server.sh, or the old uvicorn ASGI serving with --asgi) on loopback against a fresh
database with a few hundred SOS alerts, then for each configuration posts location points with a fixed
number of concurrent callers (closed loop: each caller posts again as soon as it has its answer) and
reports posts/s, the REST call's p50/p99, the API processes' CPU per post, and every non-201 answer.
No realtime server and no socket clients: this is the API alone, the number to compare with the load
bench/bench_realtime.py puts on it.

    .venv/bin/python bench/bench_api_writes.py                         # SQLite; 1x4, 2x2, 2x4, 3x2
    .venv/bin/python bench/bench_api_writes.py --configs 2x4,asgi --duration 15
    .venv/bin/python bench/bench_api_writes.py --database-url postgres://postgres@127.0.0.1:5432/naarikavach_bench

A PostgreSQL database named in --database-url is dropped and created afresh. Each configuration runs
for --duration seconds after a short warm-up; the whole run stays under two minutes with the defaults.
"""

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_realtime import REPO, cpu_seconds, create_postgres_database, free_port, machine, percentile, wait_for  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", default="1x4,2x2,2x4,3x2",
                        help="comma-separated WORKERSxTHREADS of gunicorn, or 'asgi' (uvicorn, one process)")
    parser.add_argument("--concurrency", type=int, default=8, help="callers posting at once")
    parser.add_argument("--rate", type=float, default=0,
                        help="post this many points/s open loop instead (as bench_realtime.py does), for the tail")
    parser.add_argument("--duration", type=float, default=15, help="seconds of load per configuration")
    parser.add_argument("--alerts", type=int, default=300, help="SOS alerts the points are spread over")
    parser.add_argument("--access-log", action="store_true", help="keep gunicorn's access log (to a file)")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: a fresh SQLite file)")
    return parser.parse_args()


def prepare(args, workdir: Path) -> tuple[dict, list]:
    env = {
        "DJANGO_SETTINGS_MODULE": "naarikavach.settings",
        "REALTIME_NUDGE_ADDR": "127.0.0.1:9",  # the discard port: nothing listens, as without a realtime server
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
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from sos import services

    call_command("migrate", verbosity=0)
    alerts = []
    for i in range(args.alerts):
        sos, token = services.sos_create(name=f"bench {i}", sos_type=0, latitude=12.9, longitude=77.6)
        alerts.append((sos.pk, token))
    connections.close_all()
    return env, alerts


def start_api(config: str, env: dict, port: int, log: Path, access_log: bool) -> subprocess.Popen:
    if config == "asgi":
        command = [sys.executable, "-m", "uvicorn", "naarikavach.asgi:application", "--port", str(port),
                   "--log-level", "warning", "--no-access-log"]
    else:
        workers, threads = config.split("x")
        env = {**env, "API_PORT": str(port), "API_WORKERS": workers, "API_THREADS": threads,
               "API_ACCESS_LOG": str(log.with_suffix(".access")) if access_log else ""}
        command = [str(REPO / "run_server.sh")]
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=open(log, "ab"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    wait_for(f"http://127.0.0.1:{port}/api/schema/", log.parent)
    return process


async def hammer(url: str, alerts: list, concurrency: int, duration: float, rate: float = 0) -> tuple[list, Counter]:
    """Closed loop (`concurrency` callers, each posting again once answered), or open loop at `rate` posts/s."""
    import aiohttp

    latencies, outcomes, counter = [], Counter(), iter(range(10**9))
    start = time.perf_counter()
    deadline = start + duration

    async def post(http):
        i = next(counter)
        sos_id, token = alerts[i % len(alerts)]
        body = {"sos_request": sos_id, "latitude": round(10 + i * 1e-5, 6), "longitude": 77.6}
        started = time.perf_counter()
        try:
            async with http.post("/api/update-location/", json=body, headers={"X-SOS-Token": token}) as r:
                await r.read()
                outcomes[str(r.status)] += 1
        except aiohttp.ClientError as exc:
            outcomes[type(exc).__name__] += 1
        latencies.append((time.perf_counter() - started) * 1000)

    async def caller(http):
        while time.perf_counter() < deadline:
            await post(http)

    async def open_loop(http):
        tasks, n = [], 0
        while (due := start + n / rate) < deadline:
            await asyncio.sleep(max(0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(post(http)))
            n += 1
        await asyncio.gather(*tasks)

    limit = 64 if rate else concurrency
    async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=limit)) as http:
        if rate:
            await open_loop(http)
        else:
            await asyncio.gather(*(caller(http) for _ in range(concurrency)))
    return latencies, outcomes


def measure(config: str, args, env: dict, alerts: list, workdir: Path) -> dict:
    port = free_port()
    process = start_api(config, env, port, workdir / f"api-{config}.log", args.access_log)
    try:
        url = f"http://127.0.0.1:{port}"
        asyncio.run(hammer(url, alerts, args.concurrency, 2))  # warm-up: imports, connections, caches
        cpu_before, began = cpu_seconds(process.pid), time.perf_counter()
        latencies, outcomes = asyncio.run(hammer(url, alerts, args.concurrency, args.duration, args.rate))
        elapsed, cpu = time.perf_counter() - began, cpu_seconds(process.pid) - cpu_before
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    accepted = outcomes.get("201", 0)
    return {"config": config, "posts_per_s": accepted / elapsed, "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99), "cpu_ms_per_post": cpu * 1000 / max(1, accepted),
            "outcomes": dict(outcomes), "load_average": os.getloadavg()[0]}


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        workdir = Path(tmp)
        env, alerts = prepare(args, workdir)
        rows = [measure(config.strip(), args, env, alerts, workdir) for config in args.configs.split(",")]
    info = machine()
    print(f"{info['cpu']}, {info['cores']} cores; {'PostgreSQL' if args.database_url else 'SQLite (WAL)'}; "
          f"{f'{args.rate:g} posts/s open loop' if args.rate else f'{args.concurrency} callers'}, {args.duration:g} s "
          f"each; access log {'on' if args.access_log else 'off'}")
    print("| workers x threads | posts/s | p50 ms | p99 ms | API CPU ms/post | answers | load avg |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        answers = ", ".join(f"{n}× {status}" for status, n in sorted(row["outcomes"].items()))
        print(f"| {row['config']} | {row['posts_per_s']:.1f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
              f"{row['cpu_ms_per_post']:.2f} | {answers} | {row['load_average']:.1f} |")
    return 0 if all(set(row["outcomes"]) == {"201"} for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
