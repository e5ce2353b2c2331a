"""Console queue benchmark: GET /api/console/queue/ (the dispatcher console's one-request snapshot), this tree
against a baseline commit, in alternating rounds.

Seeds a fresh database with bench_dashboard's scene (--alerts open SOS alerts with --points-point trails, --units
units with crews; its `seed`), plus --assigned of the alerts dispatched to a unit and --incidents open camera
incidents, then starts two worker processes on that database: one running this tree's code, one running the
baseline's (`git archive` of --baseline into a temporary folder; the repository is only read). Each worker
signs a dispatcher in (a session, as the dashboard does) and times the endpoint in-process through Django's test
Client: the whole Django stack (middleware, session, DRF, rendering) without the network or a server. The
workers take turns, round by round, each round starting with the other side, so both see the same neighbours.

Per request it records the total (wall clock, and the process's CPU time: on a shared machine the wall clock is
mostly waiting for a core, and CPU time is the steadier figure), the time spent in QueueApi.get (of which in the database driver, execute and
fetch, while in the view) and in rendering the JSON (Response.rendered_content); the rest is the request's
overhead (middleware, session, authentication). Once per side: the number of SQL queries (CaptureQueriesContext),
the response bytes, and whether the two sides' bodies are identical (apart from `generated_at`).

    .venv/bin/python bench/bench_console_queue.py                  # SQLite, 200 alerts x 500 points, 20 units
    .venv/bin/python bench/bench_console_queue.py --database-url postgres://postgres@127.0.0.1:5432/naarikavach_bench
    .venv/bin/python bench/bench_console_queue.py --baseline c63d707 --rounds 6 --requests 10
    .venv/bin/python bench/bench_console_queue.py --profile        # then cProfile's top functions per side

Prints a block for docs/benchmarks.md. A PostgreSQL database named in --database-url is dropped and created afresh.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=200, help="open SOS alerts")
    parser.add_argument("--points", type=int, default=500, help="trail points per alert")
    parser.add_argument("--units", type=int, default=20, help="units with crews")
    parser.add_argument("--assigned", type=int, default=50, help="of the alerts, how many are dispatched to a unit")
    parser.add_argument("--incidents", type=int, default=10, help="open camera incidents")
    parser.add_argument("--trail-points", type=int, default=50, help="the request's trail_points (the page's)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds")
    parser.add_argument("--requests", type=int, default=8, help="requests per side per round")
    parser.add_argument("--baseline", default="main", help="the commit (or branch) to compare against")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--profile", action="store_true", help="profile 5 requests per side and print the top")
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)  # internal: the tree a worker runs
    return parser.parse_args(argv)


# The parent: seeding, the baseline's tree, the rounds, the report ---------------------------------------------


def seed_extras(args) -> None:
    """On top of bench_dashboard's scene: some alerts dispatched to units, and open camera incidents."""
    from django.db import connections

    from accounts.models import User
    from common.actors import Actor
    from incidents import services as incident_services
    from sos import services
    from sos.models import SOS

    control = Actor(user=User.objects.get(username="bench-dispatcher"))
    for n, sos_id in enumerate(SOS.objects.order_by("pk").values_list("pk", flat=True)[:args.assigned]):
        services.sos_assign(sos_id=sos_id, officer_name=f"Officer {n}", unit_number=f"PCR-{n % args.units + 1}",
                            actor=control)
    for n in range(args.incidents):
        beacon = incident_services.beacon_create(beacon_id=f"bench-beacon-{n}", name=f"Gate {n}",
                                                 latitude=22.57 + n * 1e-3, longitude=88.36)
        device, _ = incident_services.device_create(device_id=f"CAM-{n}", beacon=beacon)
        incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                              confidence_score=0.9, description=f"scuffle {n}")
    connections.close_all()


def baseline_tree(ref: str, into: Path) -> Path:
    """The baseline's files, read from the repository with `git archive` (no checkout, no worktree)."""
    into.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


class Worker:
    def __init__(self, name: str, root: Path, env: dict, trail_points: int):
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(root), "--trail-points", str(trail_points)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, **env}, cwd=root)

    def ask(self, **command) -> dict:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} worker died (its error is above)")
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def median(values):
    return statistics.median(values)


def p95(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def summarise(samples: list[dict]) -> dict:
    return {key: median([s[key] for s in samples]) for key in samples[0]} | {"p95": p95([s["total"] for s in samples])}


def report(args, backend: str, baseline_ref: str, facts: dict, results: dict, round_medians: dict,
           round_cpu: dict) -> str:
    from bench_realtime import machine

    info = machine()
    flags = next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("flags")), [])
    simd = " ".join(f for f in flags if f in {"sse4_2", "avx", "avx2", "avx512f", "avx512_vnni", "avx512bw", "amx_tile"})
    base, new = summarise(results["baseline"]), summarise(results["new"])
    ratios = [b / n for b, n in zip(round_medians["baseline"], round_medians["new"])]
    cpu_ratios = [b / n for b, n in zip(round_cpu["baseline"], round_cpu["new"])]
    lines = [
        f"{info['cpu']}, {info['cores']} cores ({simd}); {info['memory']}; Python {info['python']}; {backend}; "
        f"{args.alerts} open SOS x {args.points}-point trails ({args.assigned} dispatched), {args.incidents} incidents, "
        f"{args.units} units; trail_points={args.trail_points}; Django test Client in-process; "
        f"{args.rounds} alternating rounds x {args.requests} requests per side; load average {os.getloadavg()[0]:.1f}",
        "",
        f"| measure | baseline ({baseline_ref}) | this tree | baseline / this tree |",
        "|---|---|---|---|",
        f"| median request | {base['total']:.1f} ms | {new['total']:.1f} ms | **{base['total'] / new['total']:.2f}×** |",
        f"| p95 request | {base['p95']:.1f} ms | {new['p95']:.1f} ms | {base['p95'] / new['p95']:.2f}× |",
        f"| median CPU time of a request (the process's) | {base['cpu']:.1f} ms | {new['cpu']:.1f} ms | "
        f"**{base['cpu'] / new['cpu']:.2f}×** |",
        f"| of which in the view (QueueApi.get) | {base['view']:.1f} ms | {new['view']:.1f} ms | "
        f"{base['view'] / max(new['view'], 1e-9):.2f}× |",
        f"| … in the database driver (execute + fetch) | {base['sql']:.1f} ms | {new['sql']:.1f} ms | "
        f"{base['sql'] / max(new['sql'], 1e-9):.2f}× |",
        f"| … building the payload (ORM rows to objects, serializers, dicts) | {base['view'] - base['sql']:.1f} ms | "
        f"{new['view'] - new['sql']:.1f} ms | {(base['view'] - base['sql']) / max(new['view'] - new['sql'], 1e-9):.2f}× |",
        f"| of which rendering the JSON | {base['render']:.1f} ms | {new['render']:.1f} ms | "
        f"{base['render'] / max(new['render'], 1e-9):.2f}× |",
        f"| of which the rest (middleware, session, authentication) | {base['rest']:.1f} ms | {new['rest']:.1f} ms | |",
        f"| SQL queries (the whole request) | {facts['baseline']['queries']} | {facts['new']['queries']} | |",
        f"| response | {facts['baseline']['bytes']:,} bytes | {facts['new']['bytes']:,} bytes | |",
        f"| per-round ratio of medians (baseline / this tree) | wall {' / '.join(f'{r:.2f}' for r in ratios)}; "
        f"CPU {' / '.join(f'{r:.2f}' for r in cpu_ratios)} | | |",
        "",
        f"Bodies identical apart from generated_at: {'yes' if facts['identical'] else 'NO'}; "
        f"{facts['new']['items']} items, {facts['new']['points']:,} trail points.",
    ]
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    if args.worker:
        return worker(args)
    sys.path.insert(0, str(HERE))
    from bench_dashboard import seed
    from bench_realtime import configure_environment

    with tempfile.TemporaryDirectory(prefix="bench-console-queue-") as tmp:
        workdir = Path(tmp)
        env = configure_environment(args, workdir)
        started = time.perf_counter()
        seed(args)
        seed_extras(args)
        print(f"seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        baseline_ref = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", args.baseline], check=True,
                                      capture_output=True, text=True).stdout.strip()
        workers = {"baseline": Worker("baseline", baseline_tree(args.baseline, workdir / "baseline"), env,
                                      args.trail_points),
                   "new": Worker("new", REPO, env, args.trail_points)}
        try:
            facts = {name: w.ask(command="facts") for name, w in workers.items()}
            facts["identical"] = facts["baseline"].pop("body") == facts["new"].pop("body")
            results = {name: [] for name in workers}
            round_medians = {name: [] for name in workers}
            round_cpu = {name: [] for name in workers}
            for r in range(args.rounds):
                for name in (("baseline", "new") if r % 2 == 0 else ("new", "baseline")):
                    samples = workers[name].ask(command="time", requests=args.requests)["samples"]
                    results[name] += samples
                    round_medians[name].append(median([s["total"] for s in samples]))
                    round_cpu[name].append(median([s["cpu"] for s in samples]))
                print(f"round {r + 1}: baseline {round_medians['baseline'][-1]:.1f} ms ({round_cpu['baseline'][-1]:.1f} CPU), "
                      f"this tree {round_medians['new'][-1]:.1f} ms ({round_cpu['new'][-1]:.1f} CPU)", file=sys.stderr)
            if args.profile:
                for name, w in workers.items():
                    print(f"--- {name}: cProfile, 5 requests, by own time ---\n"
                          f"{w.ask(command='profile', requests=5)['top']}", file=sys.stderr)
        finally:
            for w in workers.values():
                w.close()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(report(args, backend, baseline_ref, facts, results, round_medians, round_cpu))
    return 0 if facts["identical"] else 1


# A worker: one tree's code, timing requests on command ---------------------------------------------------------


class Clock:
    """Time spent in the view, in the database driver while in the view, and rendering, per request."""

    def __init__(self):
        self.view = self.sql = self.render = 0.0
        self.in_view = False

    def reset(self):
        self.view = self.sql = self.render = 0.0


def instrument(clock: Clock) -> None:
    from django.db.backends import utils
    from rest_framework.response import Response

    from console.apis import QueueApi

    def timed(method):
        def call(self, *args, **kwargs):
            if not clock.in_view:
                return method(self, *args, **kwargs)
            started = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                clock.sql += time.perf_counter() - started
        return call

    for name in ("execute", "executemany"):
        setattr(utils.CursorWrapper, name, timed(getattr(utils.CursorWrapper, name)))
    # fetch* reach the driver through CursorWrapper.__getattr__; as methods they can be timed the same way.
    for name in ("fetchone", "fetchmany", "fetchall"):
        def fetch(self, *args, _name=name):
            with self.db.wrap_database_errors:
                return getattr(self.cursor, _name)(*args)
        setattr(utils.CursorWrapper, name, timed(fetch))

    get = QueueApi.get

    def timed_get(self, request, *args, **kwargs):
        clock.in_view, started = True, time.perf_counter()
        try:
            return get(self, request, *args, **kwargs)
        finally:
            clock.view += time.perf_counter() - started
            clock.in_view = False
    QueueApi.get = timed_get

    rendered_content = Response.rendered_content.fget

    def timed_render(self):
        started = time.perf_counter()
        try:
            return rendered_content(self)
        finally:
            clock.render += time.perf_counter() - started
    Response.rendered_content = property(timed_render)


def worker(args) -> int:
    root = Path(args.worker)
    sys.path.insert(0, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "naarikavach.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    assert Path(sys.modules["console"].__file__).resolve().is_relative_to(root.resolve()), "wrong tree imported"
    client = Client(HTTP_HOST="localhost")  # one of ALLOWED_HOSTS' defaults
    client.force_login(User.objects.get(username="bench-dispatcher"))
    url = f"/api/console/queue/?trail_points={args.trail_points}"
    clock = Clock()
    instrument(clock)
    for _ in range(3):  # warm-up: imports, caches, the connection
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]

    def answer(**reply):
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()

    for line in sys.stdin:
        command = json.loads(line)
        if command["command"] == "facts":
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, response.content[:500]
            body = json.loads(response.content)
            body.pop("generated_at")
            answer(queries=len(queries.captured_queries), bytes=len(response.content), items=len(body["items"]),
                   points=sum(len(item["trail"]) for item in body["items"]), body=json.dumps(body, sort_keys=True))
        elif command["command"] == "time":
            samples = []
            for _ in range(command["requests"]):
                clock.reset()
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(url)
                total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
                assert response.status_code == 200
                samples.append({"total": total * 1e3, "cpu": cpu * 1e3, "view": clock.view * 1e3, "sql": clock.sql * 1e3,
                                "render": clock.render * 1e3,
                                "rest": (total - clock.view - clock.render) * 1e3})
            answer(samples=samples)
        elif command["command"] == "profile":
            import cProfile
            import io
            import pstats

            profiler = cProfile.Profile(time.process_time)  # CPU time: on a shared machine, wall time is mostly waiting
            profiler.enable()
            for _ in range(command["requests"]):
                client.get(url)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
            answer(top=out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
