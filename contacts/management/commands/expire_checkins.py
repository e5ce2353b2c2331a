"""Raise an SOS for every walk-me-home check-in past its time plus grace; loops unless --once.

The escalation scheduler may call `contacts.services.checkin_expire_due(now=...)` instead.
"""

import time

from django.core.management.base import BaseCommand

from contacts.services import checkin_expire_due


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Expire what is due and stop.")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between rounds.")

    def handle(self, *args, once=False, interval=5.0, **options):
        while True:
            raised = checkin_expire_due()
            for sos in raised:
                self.stdout.write(f"check-in expired: SOS #{sos.pk} raised")
            if once:
                return
            time.sleep(interval)
