"""Send trusted contacts' SOS alerts (email, gateway webhook), retrying failures; loops unless --once."""

import time

from django.core.management.base import BaseCommand

from contacts.sending import contact_alerts_send_due


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Send what is due and stop.")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between rounds.")

    def handle(self, *args, once=False, interval=2.0, **options):
        while True:
            delivered = contact_alerts_send_due()
            if once:
                self.stdout.write(f"{delivered} delivered")
                return
            time.sleep(interval)
