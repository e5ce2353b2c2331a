"""`manage.py detector_demo`: the worker end to end on a generated video with tiny random models, no downloads.

It registers a demo beacon, device and camera (clearly named as a demo), builds tiny checkpoints in the
real layouts (a violence model that calls every moving frame violent, so the motion gate decides) and a
video with one staged fight, and runs the worker against the platform at `--api-url` until the video
ends. The incident it raises is at "DEMO beacon (not a real place)", from camera "DEMO-corridor".
Nothing here is a real detection: the models are random apart from their biases.
"""

import logging
import tempfile
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from detection.app import DetectorApp, configure_logging
from detection.config import load_config
from incidents.models import Beacon, Device
from incidents.services import beacon_create, device_create, device_key_rotate

logger = logging.getLogger("detection")

BEACON_ID, DEVICE_ID, CAMERA_ID = "demo-beacon", "DEMO-CAM", "DEMO-corridor"


class Command(BaseCommand):
    help = "Run the detection worker once on a generated video with tiny random models (a demo; no weights needed)."

    def add_arguments(self, parser):
        parser.add_argument("--api-url", default="http://127.0.0.1:8000", help="The running platform (make run).")
        parser.add_argument("--workdir", default=None, help="Where models, video and spool go (a temp dir if unset).")

    def handle(self, *args, api_url, workdir, **options):
        configure_logging("INFO")
        # The tiny checkpoint and video builders are the test suite's own: the same real layouts the loaders check.
        from detection.tests.factories import (
            gender_model,
            save_gender_checkpoint,
            save_violence_checkpoint,
            scene,
            timm_vit_state_dict,
            write_video,
        )

        root = Path(workdir or tempfile.mkdtemp(prefix="naarikavach-demo-"))
        key = self._register()
        save_violence_checkpoint(root / "models" / "violence", timm_vit_state_dict(violence_bias=6.0))
        save_gender_checkpoint(root / "models" / "gender", gender_model(female_bias=0.0))
        video = write_video(root / "demo-fight.avi", scene(static_before=30, fighting=60, static_after=40), fps=10)
        config = root / "detector.yaml"
        config.write_text(yaml.safe_dump({
            "cameras": [{"id": CAMERA_ID, "source": str(video), "device_id": DEVICE_ID, "device_key": key,
                         "beacon_id": BEACON_ID, "analysis_fps": 2}],
            "models": {"violence": str(root / "models" / "violence"), "gender": str(root / "models" / "gender")},
            "decision": {"window": 3},
            "api": {"base_url": api_url},
            "publisher": {"spool_dir": str(root / "spool"), "retry_initial_s": 0.5, "drain_timeout_s": 30},
            "tamper": {"enabled": False},
        }))
        logger.warning("DEMO MODE: tiny random models and a generated video in %s; the incident it raises is not "
                       "a real detection", root)
        code = DetectorApp(load_config(config)).run()
        if code:
            raise CommandError(f"demo worker exited with status {code}", returncode=code)
        self.stdout.write(f"Demo finished: look for an incident at 'DEMO beacon (not a real place)' on {api_url}/dashboard/")

    def _register(self) -> str:
        """The demo beacon and device (made once, the device key rotated each run) and the demo camera."""
        from cameras.models import Camera
        from cameras.services import camera_create

        if not Beacon.objects.filter(beacon_id=BEACON_ID).exists():
            beacon_create(beacon_id=BEACON_ID, name="DEMO beacon (not a real place)", latitude=22.5726,
                          longitude=88.3639)
        if Device.objects.filter(device_id=DEVICE_ID).exists():
            device, key = device_key_rotate(device_id=DEVICE_ID)
        else:
            device, key = device_create(device_id=DEVICE_ID, beacon=BEACON_ID, name="DEMO camera")
        if not Camera.objects.filter(camera_id=CAMERA_ID).exists():
            camera_create(camera_id=CAMERA_ID, name="DEMO corridor", device=device, beacon=device.beacon,
                          latitude=22.5726, longitude=88.3639, heading_deg=0, fov_deg=90, range_m=30)
        return key
