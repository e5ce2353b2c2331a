"""The alert sender: a long-running loop that delivers queued alerts (email, webhooks) for incidents and SOS."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from incidents.alerts import Sender


class Command(BaseCommand):
    help = ("Deliver queued alerts, retrying failures with backoff. Run one or more; they never double-send. "
            "`manage.py run_worker` runs this together with the escalation scheduler.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Send what is due now, then exit (tests, cron).")
        parser.add_argument("--interval", type=float, default=None,
                            help="Seconds between polls when idle (default: ALERT_POLL_SECONDS).")
        parser.add_argument("--workers", type=int, default=None,
                            help="Alerts in flight at once, one per target (default: ALERT_SENDER_WORKERS).")

    def handle(self, *args, **options):
        sender = Sender(workers=options["workers"])
        try:
            if options["once"]:
                self.stdout.write(f"Tried {sender.drain()} alert(s).")
                return
            interval = options["interval"] if options["interval"] is not None else settings.ALERT_POLL_SECONDS
            stop = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: (stop.set(), sender.wake()))
            self.stdout.write(f"Sending alerts (polling every {interval:g}s when idle); Ctrl-C to stop.")
            while not stop.is_set():
                sender.step(interval)
        finally:
            sender.close()
