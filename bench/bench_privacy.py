"""What privacy costs: appending to a hash-chained audit trail, and making a face-blurred evidence derivative.

(1) SOS raised per second through the real service (`sos_create`, whose audit entry is now appended to a
hash chain: lock the chain's head, hash, insert, move the head) against the same service with the plain
insert used before chains patched in (the baseline), alternating rounds in one run.
(2) Milliseconds to make one blurred derivative (decode, detect faces, blur, PNG encode) per image size,
against decoding and PNG-encoding alone (the baseline), alternating rounds.

    .venv/bin/python bench/bench_privacy.py                      # a fresh SQLite file
    .venv/bin/python bench/bench_privacy.py --database-url postgres://postgres@127.0.0.1:5432/naarikavach_bench

A PostgreSQL database named in --database-url is dropped and created afresh.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--entries", type=int, default=200, help="SOS raised per round and side")
    parser.add_argument("--database-url", default="")
    return parser.parse_args()


def cpu_flags() -> str:
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    wanted = sorted(f for f in flags if f == "avx2" or f.startswith(("avx512", "amx")) or "vnni" in f)
    return ", ".join(wanted) or "none of avx2/avx512/amx/vnni"


def setup_django(args, workdir: Path) -> None:
    if args.database_url:
        from bench_realtime import create_postgres_database

        create_postgres_database(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ["SQLITE_PATH"] = str(workdir / "bench.sqlite3")
    os.environ["NAARIKAVACH_LOCAL_DIR"] = str(workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "naarikavach.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_audit(args) -> dict:
    """SOS raised per second (sos_create: the SOS, its first point, its audit entry, its event), with the
    audit entry appended to its chain, against the same service with a plain insert patched in (baseline)."""
    from common.audit import AuditEntry
    from sos import services
    from sos.models import SOS

    chained_append = AuditEntry.append.__func__

    def plain_append(cls, entry):
        entry.save(force_insert=True)
        return entry

    def raise_alerts():
        for _ in range(args.entries):
            services.sos_create(name="Bench", sos_type=SOS.Type.EMERGENCY, latitude=12.97, longitude=77.59)

    sides = {"sos_create, plain audit insert (baseline)": plain_append, "sos_create, hash-chained audit": chained_append}
    rates = {name: [] for name in sides}
    try:
        for round_number in range(args.rounds):
            order = list(sides.items()) if round_number % 2 == 0 else list(reversed(sides.items()))
            for name, append in order:
                AuditEntry.append = classmethod(append)
                started = time.perf_counter()
                raise_alerts()
                rates[name].append(args.entries / (time.perf_counter() - started))
    finally:
        AuditEntry.append = classmethod(chained_append)
    return rates


def bench_blur(args) -> dict:
    import cv2
    import numpy as np

    from privacy import redaction
    from privacy.tests.helpers import drawn_face

    results = {}
    for width, height in ((640, 360), (1280, 720), (1920, 1080)):
        scene = np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8)
        scene = cv2.GaussianBlur(scene, (0, 0), 3)  # a noise field smoothed a little: texture like a street
        size = height // 3
        scene[height // 4:height // 4 + size, width // 2:width // 2 + size] = drawn_face(size)
        data = cv2.imencode(".jpg", scene, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()

        def baseline():
            cv2.imencode(".png", cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))

        def derivative():
            redaction.blur_faces(data)

        times = {"decode + PNG (baseline)": [], "blurred derivative": []}
        for round_number in range(max(3, args.rounds // 2)):
            order = [("decode + PNG (baseline)", baseline), ("blurred derivative", derivative)]
            for name, run in order if round_number % 2 == 0 else reversed(order):
                started = time.perf_counter()
                run()
                times[name].append((time.perf_counter() - started) * 1000)
        results[f"{width}x{height}"] = times
    return results


def main():
    args = parse_args()
    from bench_realtime import machine

    with tempfile.TemporaryDirectory() as workdir:
        setup_django(args, Path(workdir))
        load_before = os.getloadavg()[0]
        audit = bench_audit(args)
        blur = bench_blur(args)
        load_after = os.getloadavg()[0]
    info = machine()
    backend = "PostgreSQL" if args.database_url else "SQLite (WAL)"
    print(f"Machine: {info['cpu']}, {info['cores']} cores, CPU flags: {cpu_flags()}; Python {info['python']}; "
          f"{backend}; 1-minute load average {load_before:.1f} before, {load_after:.1f} after.")
    print(f"\nSOS raised/s, {args.rounds} alternating rounds of {args.entries}:")
    base = statistics.median(audit["sos_create, plain audit insert (baseline)"])
    for name, values in audit.items():
        median = statistics.median(values)
        print(f"  {name}: median {median:.0f}/s, best {max(values):.0f}/s, all "
              f"{', '.join(f'{v:.0f}' for v in values)} ({median / base:.2f}x the baseline)")
    print("\nOne evidence image, ms (median of alternating rounds):")
    for size, times in blur.items():
        base_ms = statistics.median(times["decode + PNG (baseline)"])
        blurred = statistics.median(times["blurred derivative"])
        print(f"  {size}: baseline {base_ms:.0f} ms, blurred derivative {blurred:.0f} ms "
              f"({blurred / base_ms:.1f}x)")


if __name__ == "__main__":
    main()
