"""Make the face-blurred derivatives of evidence images not made yet (run by the scheduler after uploads)."""

from django.core.management.base import BaseCommand

from privacy.services import redacted_derivatives_prepare


class Command(BaseCommand):
    help = "Make missing face-blurred derivatives of evidence images, newest first."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=100)

    def handle(self, *args, limit, **options):
        self.stdout.write(f"Made {redacted_derivatives_prepare(limit=limit)} blurred derivatives.")
