"""The worker's escalation loop is never held up by its periodic jobs: a job that takes minutes (a backlog
of evidence to blur, a retention purge) runs beside the escalations, not between them."""

import io
import signal
import threading
import time

import pytest
from django.core.management import call_command

from response.management.commands import run_worker

TICK = 0.05


@pytest.fixture
def restore_signals():
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_escalations_keep_their_tick_while_a_long_periodic_job_runs(monkeypatch, restore_signals):
    job_running, release_job = threading.Event(), threading.Event()
    ticks: list[float] = []
    ticks_changed = threading.Condition()

    def long_job(*args, **kwargs):
        job_running.set()
        release_job.wait(30)  # stands in for minutes of blurring; released by the test
        return 0

    def tick(*args, **kwargs):
        with ticks_changed:
            ticks.append(time.monotonic())
            ticks_changed.notify_all()
        return []

    monkeypatch.setattr(run_worker, "redacted_derivatives_prepare", long_job)
    monkeypatch.setattr(run_worker, "cameras_check_offline", lambda **kwargs: [])
    monkeypatch.setattr(run_worker, "retention_purge", lambda **kwargs: None)
    monkeypatch.setattr(run_worker, "escalation_tick", tick)
    seen: dict = {}

    def observe_then_stop():
        try:
            seen["job_started"] = job_running.wait(10)
            with ticks_changed:
                first = len(ticks)
                seen["ticked_meanwhile"] = ticks_changed.wait_for(lambda: len(ticks) >= first + 5, timeout=10)
            seen["job_still_running"] = not release_job.is_set()
        finally:
            release_job.set()
            worker.stop_event.set()  # what the worker's SIGTERM handler does, without signalling the test process

    worker = run_worker.Command(stdout=io.StringIO())
    worker.stop_event = threading.Event()
    observer = threading.Thread(target=observe_then_stop)
    observer.start()
    # In this (the main) thread, where the worker installs its signal handlers, as under `manage.py`.
    call_command(worker, "--tick", str(TICK), "--no-alerts")
    observer.join(10)

    assert seen == {"job_started": True, "ticked_meanwhile": True, "job_still_running": True}


def test_the_worker_runs_the_retention_purge_and_the_blurring_when_it_starts_and_beside_the_escalations(
    monkeypatch, restore_signals
):
    calls: dict[str, str] = {}
    all_called = threading.Event()

    def job(name):
        def run(*args, **kwargs):
            calls.setdefault(name, threading.current_thread().name)
            if len(calls) == 3:
                all_called.set()
            return 0

        return run

    monkeypatch.setattr(run_worker, "redacted_derivatives_prepare", job("blurred derivatives"))
    monkeypatch.setattr(run_worker, "cameras_check_offline", job("camera offline check"))
    monkeypatch.setattr(run_worker, "retention_purge", job("retention purge"))
    monkeypatch.setattr(run_worker, "escalation_tick", lambda **kwargs: [])

    def stop_when_all_ran():
        try:
            all_called.wait(10)
        finally:
            worker.stop_event.set()

    worker = run_worker.Command(stdout=io.StringIO())
    worker.stop_event = threading.Event()
    stopper = threading.Thread(target=stop_when_all_ran)
    stopper.start()
    call_command(worker, "--tick", str(TICK), "--no-alerts")
    stopper.join(10)

    assert calls == {name: "periodic-jobs" for name in ("camera offline check", "blurred derivatives",
                                                        "retention purge")}
