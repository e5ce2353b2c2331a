"""Cameras: the registry dispatchers see, camera health from heartbeats, and SOS ↔ camera links."""

from django.apps import AppConfig


class CamerasConfig(AppConfig):
    name = "cameras"
    verbose_name = "Cameras"

    def ready(self):
        # The privacy app's retention purge removes camera snapshots and camera evidence files.
        from cameras import retention

        retention.register()
