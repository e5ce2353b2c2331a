"""Delete outbox events older than OUTBOX_RETENTION_HOURS (the realtime server also does it periodically)."""

from django.core.management.base import BaseCommand

from realtime.services import outbox_prune


class Command(BaseCommand):
    help = "Delete realtime outbox events older than the retention period (settings.OUTBOX_RETENTION_HOURS)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=None, help="Retention in hours (default: the setting).")

    def handle(self, *args, hours, **options):
        deleted = outbox_prune(retention_hours=hours)
        self.stdout.write(f"Deleted {deleted} outbox events.")
