"""Cameras: the registry dispatchers see, camera health from heartbeats, and SOS ↔ camera links."""

from django.apps import AppConfig


class CamerasConfig(AppConfig):
    name = "cameras"
    verbose_name = "Cameras"

    def ready(self):
        # The SOS and incident apps sit below this one: they announce positions and camera reports, this app
        # links cameras and joins a camera's incident to its SOS, inside their transactions.
        from cameras import services
        from incidents.hooks import camera_incident_reported
        from sos.hooks import sos_positioned

        sos_positioned.register(services.cameras_link_sos)
        camera_incident_reported.register(services.cameras_attach_incident_to_linked_sos)

        # The privacy app's retention purge removes camera snapshots and camera evidence files.
        from cameras import retention

        retention.register()

        # An SOS's evidence bundle carries its cameras' pre-roll originals.
        from cameras.bundle import sos_bundle_files
        from privacy.hooks import sos_bundle_files as bundle_hook

        bundle_hook.register(sos_bundle_files)
