"""Purge what the retention policy says has expired (not on legal hold); run daily by the scheduler, or by hand."""

from django.core.management.base import BaseCommand

from privacy.retention import retention_purge


class Command(BaseCommand):
    help = "Delete expired evidence, reports, incidents, SOS data and view audit; minimise closed anonymous SOS."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None, help="Rows per transaction.")

    def handle(self, *args, batch_size, **options):
        run = retention_purge(batch_size=batch_size)
        for kind, count in run.counts.items():
            self.stdout.write(f"{kind}: {count}")
        self.stdout.write(self.style.SUCCESS(f"Retention run {run.pk} done."))
