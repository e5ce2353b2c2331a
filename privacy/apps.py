"""Privacy: who looked at what (the view audit), blurred evidence, chains of custody, retention, citizens' own data."""

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy and evidence custody"

    def ready(self):
        # The SOS and incident apps sit below this one: they announce reads, this app audits them.
        from incidents.hooks import alert_image_emailed, alert_image_redacted, incident_detail_extras
        from privacy import apis, services
        from sos.hooks import sos_detail_extras, sos_photo_viewed, sos_trail_read

        sos_trail_read.register(services.sos_trail_read_record)
        sos_photo_viewed.register(services.sos_photo_view_record)
        sos_detail_extras.register(apis.sos_detail_view_audit)
        incident_detail_extras.register(apis.incident_detail_view_audit)
        alert_image_redacted.register(services.redacted_image_data)
        alert_image_emailed.register(services.evidence_emailed_record)
