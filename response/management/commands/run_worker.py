"""The platform's background worker: the escalation scheduler, the alert sender and the periodic jobs.

Every tick: escalations (with duress cancels, expired check-ins and camera incidents). Every few seconds:
cameras gone silent become incidents. Every minute: blurred derivatives of new evidence. Daily: the
retention purge. Each job is idempotent, so several workers may run at once.

The escalation loop has the main thread to itself; the alert sender and the periodic jobs each run in a
thread of their own, so a long job (blurring a backlog of evidence takes seconds an image, a purge
minutes) never makes an escalation late.
"""

import logging
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from cameras.services import cameras_check_offline
from incidents.alerts import Sender
from privacy.retention import retention_purge
from privacy.services import redacted_derivatives_prepare
from response.services import escalation_tick

logger = logging.getLogger(__name__)


class Periodic:
    """A job run every `every` seconds of the worker's life (the first time at start)."""

    def __init__(self, name: str, every: float, job):
        self.name, self.every, self.job, self.next_at = name, every, job, 0.0

    def run_if_due(self, now: float) -> None:
        if now < self.next_at:
            return
        self.next_at = now + self.every
        try:
            self.job()
        except Exception:  # the database may be away for a moment: the next round tries again
            logger.exception("Periodic job %s failed", self.name)
            connection.close()


class Command(BaseCommand):
    help = ("Run the escalation scheduler and the alert sender until stopped. Any number may run at once: "
            "each escalation step fires once per alert and each alert is sent once.")
    # Set by whoever runs the command in-process (tests) to stop it without a signal; SIGINT/SIGTERM set it too.
    stop_event: threading.Event | None = None

    def add_arguments(self, parser):
        parser.add_argument("--tick", type=float, default=None,
                            help="Seconds between escalation checks (default: ESCALATION_TICK_SECONDS).")
        parser.add_argument("--interval", type=float, default=None,
                            help="Seconds between alert polls when idle (default: ALERT_POLL_SECONDS).")
        parser.add_argument("--no-alerts", action="store_true", help="Escalate only; send no alerts.")
        parser.add_argument("--no-periodic", action="store_true",
                            help="No camera checks, blurred derivatives or retention purge (tests of one part).")

    def handle(self, *args, **options):
        tick = options["tick"] if options["tick"] is not None else settings.ESCALATION_TICK_SECONDS
        interval = options["interval"] if options["interval"] is not None else settings.ALERT_POLL_SECONDS
        stop = self.stop_event or threading.Event()
        sender = None if options["no_alerts"] else Sender()

        def on_signal(*_):
            stop.set()
            if sender is not None:
                sender.wake()

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, on_signal)
        sender_thread = None
        if sender is not None:
            sender_thread = threading.Thread(target=self._send, args=(sender, stop, interval), name="alert-sender")
            sender_thread.start()
        self.stdout.write(f"Escalating every {tick:g}s{'' if options['no_alerts'] else ' and sending alerts'}; "
                          "Ctrl-C to stop.")
        self.stdout.flush()
        periodic = [] if options["no_periodic"] else [
            Periodic("camera offline check", settings.CAMERA_CHECK_SECONDS, cameras_check_offline),
            Periodic("blurred derivatives", 60.0, redacted_derivatives_prepare),
            Periodic("retention purge", 24 * 3600.0, retention_purge),
        ]
        periodic_thread = None
        if periodic:
            periodic_thread = threading.Thread(target=self._run_periodic, args=(periodic, stop), name="periodic-jobs")
            periodic_thread.start()
        try:
            while not stop.is_set():
                started = time.monotonic()
                close_old_connections()
                try:
                    for escalation in escalation_tick():
                        logger.info("Escalated %s", escalation)
                except Exception:  # the database may be away for a moment: keep going
                    logger.exception("Escalation tick failed; trying again")
                    connection.close()
                stop.wait(max(0.0, tick - (time.monotonic() - started)))
        finally:
            stop.set()
            for thread in (sender_thread, periodic_thread):
                if thread is not None:
                    thread.join()
        self.stdout.write("Stopped.")
        self.stdout.flush()

    @staticmethod
    def _run_periodic(jobs: list[Periodic], stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                close_old_connections()
                for job in jobs:
                    if stop.is_set():
                        break
                    job.run_if_due(time.monotonic())
                next_due = min(job.next_at for job in jobs)
                stop.wait(min(1.0, max(0.0, next_due - time.monotonic())))
        finally:
            connection.close()

    @staticmethod
    def _send(sender: Sender, stop: threading.Event, interval: float) -> None:
        try:
            while not stop.is_set():
                try:
                    sender.step(interval)
                except Exception:
                    logger.exception("Alert sending failed; trying again")
                    connection.close()
                    stop.wait(interval)
        finally:
            sender.close()
            connection.close()
