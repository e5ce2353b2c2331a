"""`manage.py check_cameras [--loop]`: mark silent cameras offline and returned ones back (camera_offline incidents)."""

import time

from django.core.management.base import BaseCommand

from cameras.services import cameras_check_offline


class Command(BaseCommand):
    help = "Apply the camera offline rule once, or every --interval seconds with --loop."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep checking until interrupted.")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between checks with --loop.")

    def handle(self, *args, loop=False, interval=5.0, **options):
        while True:
            for camera in cameras_check_offline():
                self.stdout.write(f"camera {camera.camera_id}: {camera.health}")
            if not loop:
                return
            time.sleep(interval)  # a polling loop's period, not a wait for a condition
