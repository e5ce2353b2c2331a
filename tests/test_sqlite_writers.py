"""SQLite writers (the API's threads and processes) take turns on a lock, not in SQLite's busy handler."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connection, transaction

from realtime.models import OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)

# SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms between tries: a writer that
# starts waiting while another holds the lock for 240 ms tries at 228 ms, then only at 328 ms, 88 ms late.
HOLD_SECONDS = 0.24


@pytest.fixture(autouse=True)
def _sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")


def write_in_thread(hold: float, began: threading.Event, times: dict, name: str) -> threading.Thread:
    def run():
        try:
            with transaction.atomic():
                times[f"{name} began"] = time.monotonic()
                began.set()
                OutboxEvent.objects.create(event="new_sos", rooms=["sos_channel"], payload={"by": name})
                time.sleep(hold)
            times[f"{name} committed"] = time.monotonic()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_writer_waiting_on_another_thread_starts_as_soon_as_it_commits():
    times, first_began, second_began = {}, threading.Event(), threading.Event()
    first = write_in_thread(HOLD_SECONDS, first_began, times, "first")
    first_began.wait(5)
    second = write_in_thread(0, second_began, times, "second")
    first.join(10)
    second.join(10)

    assert times["second began"] >= times["first committed"] - 0.01
    # Through the busy handler the second writer would start about 88 ms after the commit.
    assert times["second began"] - times["first committed"] < 0.04
    assert OutboxEvent.objects.count() == 2


OTHER_PROCESS = """
import sys, time
import django
django.setup()
from django.db import transaction
from realtime.models import OutboxEvent
print("ready", flush=True)
sys.stdin.readline()
with transaction.atomic():
    print(time.time(), flush=True)
    OutboxEvent.objects.create(event="new_sos", rooms=["sos_channel"], payload={"by": "other process"})
"""


def test_a_writer_in_another_process_starts_as_soon_as_this_one_commits():
    env = {**os.environ, "DATABASE_URL": "", "SQLITE_PATH": str(connection.settings_dict["NAME"]),
           "DJANGO_SETTINGS_MODULE": "naarikavach.settings"}
    other = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, env=env, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert other.stdout.readline().strip() == "ready"
        with transaction.atomic():
            OutboxEvent.objects.create(event="new_sos", rooms=["sos_channel"], payload={"by": "this process"})
            other.stdin.write("go\n")
            other.stdin.flush()
            time.sleep(HOLD_SECONDS)
        committed = time.time()
        other_began = float(other.stdout.readline())
        assert other.wait(10) == 0
    finally:
        other.kill()

    assert other_began >= committed - 0.01
    assert other_began - committed < 0.04
    assert OutboxEvent.objects.count() == 2


def test_a_writer_that_cannot_get_its_turn_within_the_busy_timeout_is_told_the_database_is_locked():
    began, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                OutboxEvent.objects.create(event="new_sos", rooms=["sos_channel"], payload={})
                began.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    began.wait(5)
    try:
        connection.ensure_connection()
        connection.connection.execute("PRAGMA busy_timeout = 100")
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            with transaction.atomic():
                OutboxEvent.objects.create(event="new_sos", rooms=["sos_channel"], payload={})
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(10)
        connection.close()
    assert 0.09 <= waited < 2
    assert OutboxEvent.objects.count() == 1


def test_a_writer_that_rolls_back_lets_the_next_one_in_at_once():
    with pytest.raises(ZeroDivisionError):
        with transaction.atomic():
            OutboxEvent.objects.create(event="new_sos", rooms=["sos_channel"], payload={})
            1 / 0
    times, began = {}, threading.Event()
    other = write_in_thread(0, began, times, "other")
    other.join(5)

    assert began.is_set() and "other committed" in times
    assert OutboxEvent.objects.count() == 1
