"""The alert sender: a long-running loop that delivers queued incident alerts (email, webhooks)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from incidents.alerts import send_due_alerts


class Command(BaseCommand):
    help = "Deliver queued incident alerts, retrying failures with backoff. Run one or more; they never double-send."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Send what is due now, then exit (tests, cron).")
        parser.add_argument("--interval", type=float, default=None,
                            help="Seconds between polls when idle (default: ALERT_POLL_SECONDS).")
        parser.add_argument("--batch", type=int, default=20, help="Rows claimed per round.")

    def handle(self, *args, **options):
        if options["once"]:
            sent = self._drain(options["batch"])
            self.stdout.write(f"Tried {sent} alert(s).")
            return
        interval = options["interval"] if options["interval"] is not None else settings.ALERT_POLL_SECONDS
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Sending alerts every {interval:g}s; Ctrl-C to stop.")
        while not stop.is_set():
            close_old_connections()
            if not self._drain(options["batch"]):
                stop.wait(interval)

    def _drain(self, batch: int) -> int:
        # Only rows due when the round began: a row that fails now is due again later, not in this round.
        due_by, total = timezone.now(), 0
        while tried := send_due_alerts(limit=batch, due_by=due_by):
            total += tried
        return total
