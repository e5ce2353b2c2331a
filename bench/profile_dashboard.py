"""Where the dispatcher console's main-thread time goes: the bench's scene (bench_dashboard.py), then per window
(idle, under unit updates) Chrome's metrics broken down (script, layout, style, tasks) and the JavaScript
functions with the most self time (DevTools Profiler).

    .venv/bin/python bench/profile_dashboard.py --window 8
"""

import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dashboard import Mover, parse_args, seed, signed_in_console  # noqa: E402
from bench_realtime import Servers, configure_environment  # noqa: E402

KEYS = ["TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "LayoutCount", "RecalcStyleCount"]


def metrics(cdp) -> dict:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def top_functions(profile: dict, n: int = 25) -> list[tuple[str, float]]:
    nodes = {node["id"]: node for node in profile["nodes"]}
    self_us = Counter()
    deltas = profile.get("timeDeltas", [])
    for sample, delta in zip(profile.get("samples", []), deltas[1:] + [0]):
        frame = nodes[sample]["callFrame"]
        name = f"{frame['functionName'] or '(anon)'} {frame['url'].rsplit('/', 1)[-1]}:{frame['lineNumber'] + 1}"
        self_us[name] += delta
    return [(name, us / 1000) for name, us in self_us.most_common(n)]


def trace_summary(events: list, elapsed: float, n: int = 25) -> list[str]:
    """Self time of the main thread's trace events by name (a child's time is taken from its parent)."""
    main = {(e["pid"], e["tid"]) for e in events if e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"}
    spans = sorted(((e["ts"], e["ts"] + e.get("dur", 0), e["name"]) for e in events
                    if (e["pid"], e["tid"]) in main and e.get("ph") == "X" and e.get("dur")), key=lambda s: (s[0], -s[1]))
    own, stack = Counter(), []
    for start, end, name in spans:
        while stack and stack[-1][1] <= start:
            stack.pop()
        own[name] += end - start
        if stack:
            own[stack[-1][2]] -= end - start
        stack.append((start, end, name))
    return [f"  {us / 1000 / elapsed:7.2f} ms/s  {name}" for name, us in own.most_common(n)]


def run(page, cdp, seconds, mover, rate, trace=False):
    events = []
    if trace:
        cdp.on("Tracing.dataCollected", lambda data: events.extend(data["value"]))
        cdp.send("Tracing.start", {"traceConfig": {"includedCategories": [
            "devtools.timeline", "disabled-by-default-devtools.timeline", "blink", "cc", "__metadata"]}})
    before, started = metrics(cdp), time.perf_counter()
    cdp.send("Profiler.start")
    if mover:
        mover.run(rate, seconds)
    else:
        time.sleep(seconds)  # the idle page: the window itself is the measurement
    profile = cdp.send("Profiler.stop")["profile"]
    elapsed = time.perf_counter() - started
    if trace:
        done = []
        cdp.on("Tracing.tracingComplete", lambda data: done.append(1))
        cdp.send("Tracing.end")
        while not done:
            page.wait_for_timeout(100)
        print("\n".join(trace_summary(events, elapsed)))
    after = metrics(cdp)
    print(f"--- {'updates' if mover else 'idle'} ({elapsed:.1f} s)")
    for key in KEYS:
        delta = after[key] - before[key]
        print(f"  {key:22} {delta * 1000 / elapsed if 'Duration' in key else delta / elapsed:8.1f} {'ms/s' if 'Duration' in key else '/s'}")
    for name, ms in top_functions(profile):
        print(f"  {ms / elapsed:7.2f} ms/s  {name}")


def main() -> int:
    args = parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="profile-dashboard-") as tmp:
        env = configure_environment(args, Path(tmp))
        seed(args)
        servers = Servers(env, Path(tmp), args)
        try:
            servers.start_realtime()
            servers.env.update({"REALTIME_PUBLIC_URL": servers.rt_url, "MAP_TILE_URL": ""})
            servers.start_api("gunicorn")
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
            with sync_playwright() as playwright:
                browser, context, page = signed_in_console(playwright, servers)
                page.wait_for_selector("#connection[data-state=online]", timeout=30000)
                cdp = context.new_cdp_session(page)
                cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
                cdp.send("Profiler.enable")
                cdp.send("Profiler.setSamplingInterval", {"interval": 200})
                mover = Mover(args.units)
                mover.run(args.rate, 2)
                for _ in range(args.rounds):
                    run(page, cdp, args.window, None, args.rate, trace=True)
                    run(page, cdp, args.window, mover, args.rate, trace=True)
                browser.close()
        finally:
            servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
