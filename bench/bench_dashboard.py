"""Dispatcher console benchmark: a real shift's load in Chromium.

Seeds a fresh database with --alerts open SOS alerts (each with a --points-point trail) and --units units with
crews, starts the API server (run_server.sh) and the realtime server (run_socketio.sh) on loopback, signs a
dispatcher in to /dashboard/ in headless Chromium (Playwright, Debian's /usr/bin/chromium), and measures:

- time to the first render of the queue (the page's `queue-rendered` mark, from navigation start), and how many
  rows it shows;
- API requests the page makes on load (until it is ready);
- main-thread time per second (Chrome DevTools Protocol `Performance.getMetrics`: TaskDuration) while the units
  report positions at --rate updates/s in total, against the same page with no updates, in alternating rounds
  (the machine is shared: the ratio is the figure to trust), plus long tasks (>50 ms) seen meanwhile.

    .venv/bin/python bench/bench_dashboard.py                 # 200 alerts x 500 points, 20 units, 20 updates/s
    .venv/bin/python bench/bench_dashboard.py --alerts 40 --rounds 2

Prints a block for docs/benchmarks.md; the servers' logs stay in a temporary folder, named when something fails.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_realtime import Servers, add_server_arguments, configure_environment, machine  # noqa: E402

PASSWORD = "bench-password-1"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CENTRE = (22.5726, 88.3639)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=200, help="open SOS alerts")
    parser.add_argument("--points", type=int, default=500, help="trail points per alert")
    parser.add_argument("--units", type=int, default=20, help="units moving")
    parser.add_argument("--rate", type=float, default=20, help="unit position updates per second, in total")
    parser.add_argument("--window", type=float, default=10, help="seconds per measuring window")
    parser.add_argument("--rounds", type=int, default=3, help="alternating idle/updates rounds")
    add_server_arguments(parser)
    return parser.parse_args()


def seed(args) -> None:
    """Alerts with long trails (written in bulk: a bench's setup, not what it measures), units with crews."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from accounts.services import staff_create, unit_get_or_create
    from sos import services
    from sos.models import SOS, LocationUpdate

    call_command("migrate", verbosity=0)
    staff_create(username="bench-dispatcher", role="dispatcher", password=PASSWORD)
    rng = random.Random(7)
    now = timezone.now()
    for i in range(args.alerts):
        lat, lng = CENTRE[0] + rng.uniform(-0.08, 0.08), CENTRE[1] + rng.uniform(-0.08, 0.08)
        sos, _ = services.sos_create(name=f"Citizen {i}", sos_type=i % 2, latitude=lat, longitude=lng,
                                     phone=f"+91 98300 {i:05d}")
        started = now - timedelta(minutes=rng.uniform(1, 90))
        points = []
        for n in range(args.points):
            lat += rng.uniform(-1, 1) * 1e-4
            lng += rng.uniform(-1, 1) * 1e-4
            points.append(LocationUpdate(sos_request=sos, latitude=lat, longitude=lng, accuracy_m=10,
                                         recorded_at=started + timedelta(seconds=n * 5), received_at=now))
        LocationUpdate.objects.bulk_create(points, batch_size=1000)
        SOS.objects.filter(pk=sos.pk).update(created_at=started, last_latitude=lat, last_longitude=lng)
    for u in range(args.units):
        unit_get_or_create(unit_number=f"PCR-{u + 1}")
        staff_create(username=f"officer{u + 1}", role="officer", unit_number=f"PCR-{u + 1}", password=PASSWORD)
    connections.close_all()


class Mover:
    """Moves the units around the centre through the service (outbox, nudge, realtime server, page)."""

    def __init__(self, units: int):
        from accounts.models import User
        from common.actors import Actor

        self.actors = [Actor(user=User.objects.select_related("unit").get(username=f"officer{u + 1}")) for u in range(units)]
        self.positions = [[CENTRE[0] + random.uniform(-0.05, 0.05), CENTRE[1] + random.uniform(-0.05, 0.05)] for _ in range(units)]
        self.sent = 0

    def step(self) -> None:
        from sos.services import unit_location_update

        i = self.sent % len(self.actors)
        self.positions[i][0] += random.uniform(-1, 1) * 3e-4
        self.positions[i][1] += random.uniform(-1, 1) * 3e-4
        actor = self.actors[i]
        unit_location_update(unit_number=actor.user.unit.unit_number, latitude=self.positions[i][0],
                             longitude=self.positions[i][1], actor=actor)
        self.sent += 1

    def run(self, rate: float, seconds: float) -> float:
        """Send at `rate` per second for `seconds`; returns the rate achieved."""
        start = time.perf_counter()
        n = 0
        while (due := start + n / rate) < start + seconds:
            time.sleep(max(0.0, due - time.perf_counter()))
            self.step()
            n += 1
        return n / (time.perf_counter() - start)


def main_thread_seconds(cdp) -> float:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return metrics["TaskDuration"]


def window(page, cdp, seconds: float, mover: Mover | None, rate: float) -> dict:
    page.evaluate("() => { window.__longTasks = 0; }")
    busy_before, started = main_thread_seconds(cdp), time.perf_counter()
    if mover:
        achieved = mover.run(rate, seconds)
    else:
        time.sleep(seconds)  # measuring the idle page: nothing to wait for, the window itself is the measurement
        achieved = 0.0
    elapsed = time.perf_counter() - started
    busy = main_thread_seconds(cdp) - busy_before
    return {"ms_per_s": busy * 1000 / elapsed, "long_tasks": page.evaluate("() => window.__longTasks"), "rate": achieved}


LONG_TASKS = """
window.__longTasks = 0;
new PerformanceObserver((list) => { window.__longTasks += list.getEntries().length; }).observe({ type: "longtask", buffered: false });
"""


def signed_in_console(playwright, servers: Servers):
    """(browser, context, page): headless Chromium at 1920x1080, the bench dispatcher signed in to the console."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"])
    context = browser.new_context(base_url=servers.api_url, viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto("/dashboard/login/")
    page.fill("#id_username", "bench-dispatcher")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready=true]", timeout=60000)
    return browser, context, page


def measure(args, servers: Servers) -> dict:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the units are moved through the ORM meanwhile.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser, context, page = signed_in_console(playwright, servers)
        # Measured on a fresh load of the console, signed in: the sign-in's password hashing is not the console's.
        api_requests = []
        page.on("request", lambda r: "/api/" in r.url and api_requests.append(r.url.split("?")[0].replace(servers.api_url, "")))
        page.goto("/dashboard/")
        page.wait_for_selector("body[data-ready=true]", timeout=60000)
        page.wait_for_selector("#connection[data-state=online]", timeout=30000)
        first_render = page.evaluate("() => performance.getEntriesByName('queue-rendered')[0]?.startTime")
        marks = page.evaluate("() => Object.fromEntries(['console-start', 'rooms-joined', 'queue-fetched', 'queue-rendered']"
                              ".map((name) => [name, Math.round(performance.getEntriesByName(name)[0]?.startTime || 0)]))")
        rows = page.locator("#queue > li[data-key]").count()
        timings = page.evaluate("() => [['document', Math.round(performance.getEntriesByType('navigation')[0].responseEnd)],"
                                " ...performance.getEntriesByType('resource').map((r) => [r.name.split('/').slice(-1)[0], Math.round(r.startTime), Math.round(r.responseEnd)])]")
        print("timings (name, start, end ms):", timings, file=sys.stderr)
        on_load = list(api_requests)
        page.evaluate(f"() => {{ {LONG_TASKS} }}")
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
        from django.db import connections

        mover = Mover(args.units)
        mover.run(args.rate, 2)  # warm-up: the units appear on the page once
        rounds = []
        for _ in range(args.rounds):
            rounds.append({"idle": window(page, cdp, args.window, None, args.rate),
                           "updates": window(page, cdp, args.window, mover, args.rate)})
        page.wait_for_function("(n) => window.naarikavach.state.units.size >= n", arg=args.units)
        focused_kept = page.evaluate("() => document.querySelectorAll('#queue > li[data-key]').length") == rows
        connections.close_all()
        browser.close()
    return {"first_render_ms": first_render, "marks": marks, "rows": rows, "api_on_load": on_load, "rounds": rounds,
            "queue_intact": focused_kept}


def report(args, result: dict) -> str:
    info = machine()
    flags = next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("flags")), [])
    simd = " ".join(f for f in flags if f in {"sse4_2", "avx", "avx2", "avx512f", "avx512_vnni", "avx512bw", "amx_tile"})
    lines = [
        f"{info['cpu']}, {info['cores']} cores ({simd}); {info['memory']}; Chromium headless via Playwright; "
        f"{args.alerts} open SOS x {args.points}-point trails, {args.units} units, {args.rate:g} unit updates/s; "
        f"{args.rounds} alternating rounds of {args.window:g} s; load average {os.getloadavg()[0]:.1f}",
        "",
        "| measure | figure | aim |",
        "|---|---|---|",
        f"| first render of the queue (from navigation start) | {result['first_render_ms']:.0f} ms ({result['rows']} rows) | < 1,000 ms |",
        f"| of which: script started, realtime rooms joined, queue fetched (ms) | "
        f"{', '.join(f'{k} {v}' for k, v in result['marks'].items())} | |",
        f"| API requests on load | {len(result['api_on_load'])} ({', '.join(sorted(set(result['api_on_load'])))}) | ≤ 5 |",
    ]
    idle = [r["idle"]["ms_per_s"] for r in result["rounds"]]
    busy = [r["updates"]["ms_per_s"] for r in result["rounds"]]
    lines.append(f"| main thread, idle page | {' / '.join(f'{v:.1f}' for v in idle)} ms/s | |")
    achieved = " / ".join(f"{r['updates']['rate']:.1f}" for r in result["rounds"])
    lines.append(f"| main thread, {args.rate:g} unit updates/s | {' / '.join(f'{v:.1f}' for v in busy)} ms/s "
                 f"(achieved {achieved} updates/s) | < 50 ms/s |")
    lines.append(f"| added by the updates (updates - idle, per round) | "
                 f"{' / '.join(f'{b - i:.1f}' for b, i in zip(busy, idle))} ms/s | |")
    lines.append(f"| long tasks (> 50 ms) during updates | {sum(r['updates']['long_tasks'] for r in result['rounds'])} | 0 |")
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        workdir = Path(tmp)
        env = configure_environment(args, workdir)
        seeding = time.perf_counter()
        seed(args)
        print(f"seeded in {time.perf_counter() - seeding:.0f} s", file=sys.stderr)
        servers = Servers(env, workdir, args)
        try:
            servers.start_realtime()
            servers.env.update({"REALTIME_PUBLIC_URL": servers.rt_url, "MAP_TILE_URL": ""})
            servers.start_api("gunicorn")
            result = measure(args, servers)
        finally:
            servers.stop()
    print(report(args, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
