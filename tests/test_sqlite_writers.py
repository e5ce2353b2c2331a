"""SQLite writers (the API's threads and processes) take turns on a lock, not in SQLite's busy handler."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connection, transaction

from naarikavach.sqlite.base import _writer_lock
from naarikavach.testing import wait_until
from realtime.models import OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)

@pytest.fixture(autouse=True)
def _sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")


def writer_lock():
    return _writer_lock(str(connection.settings_dict["NAME"]), connection.is_in_memory_db())



def write_in_thread(name: str, began: threading.Event, times: dict, release: threading.Event | None = None):
    def run():
        try:
            with transaction.atomic():
                times[f"{name} began"] = time.monotonic()
                began.set()
                OutboxEvent.objects.create(event="new_sos", rooms=["sos_channel"], payload={"by": name})
                if release is not None:
                    release.wait(10)
            times[f"{name} committed"] = time.monotonic()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_writer_waiting_on_another_thread_queues_on_the_lock_and_starts_after_the_commit():
    times, first_began, second_began, release = {}, threading.Event(), threading.Event(), threading.Event()
    first = write_in_thread("first", first_began, times, release)
    first_began.wait(5)
    second = write_in_thread("second", second_began, times)
    # The second writer waits on the process's lock (woken the moment the first commits), not in SQLite's
    # busy handler (which sleeps up to 100 ms between tries whenever the database frees up).
    assert wait_until(lambda: writer_lock().queued == 1, interval=0.001)
    assert not second_began.is_set()
    release.set()
    first.join(10)
    second.join(10)

    assert times["second began"] >= times["first committed"]
    assert OutboxEvent.objects.count() == 2


OTHER_PROCESS = """
import sys, time
import django
django.setup()
import fcntl
from django.db import transaction
from naarikavach.sqlite import base
from realtime.models import OutboxEvent

flock = fcntl.flock
def reporting_flock(fd, operation):
    try:
        return flock(fd, operation)
    except BlockingIOError:
        print("waiting", flush=True)  # on the file lock: the other process holds the turn
        base.fcntl.flock = flock
        raise
base.fcntl.flock = reporting_flock
print("ready", flush=True)
sys.stdin.readline()
with transaction.atomic():
    print(time.time(), flush=True)
    OutboxEvent.objects.create(event="new_sos", rooms=["sos_channel"], payload={"by": "other process"})
"""


def test_a_writer_in_another_process_waits_on_the_file_lock_and_starts_after_this_one_commits():
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
            assert other.stdout.readline().strip() == "waiting"
        committed = time.time()
        other_began = float(other.stdout.readline())
        assert other.wait(10) == 0
    finally:
        other.kill()

    assert other_began >= committed - 0.01  # two processes' clocks: the same clock, read a moment apart
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
            1 / 0  # noqa: B018
    times, began = {}, threading.Event()
    other = write_in_thread("other", began, times)
    other.join(5)

    assert began.is_set() and "other committed" in times
    assert OutboxEvent.objects.count() == 1
