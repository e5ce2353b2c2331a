"""`manage.py run_detector --config detector.yaml`: the detection worker under the project's Django settings."""

from django.core.management.base import BaseCommand, CommandError

from detection.app import add_arguments, run_detector


class Command(BaseCommand):
    help = "Run the CCTV detection worker until SIGINT/SIGTERM (or until every video-file source has ended)."

    def add_arguments(self, parser):
        add_arguments(parser)

    def handle(self, *args, **options):
        code = run_detector(options["config"], options["log_level"])
        if code:
            raise CommandError(f"detector exited with status {code}", returncode=code)
