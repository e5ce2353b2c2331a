"""Contacts: citizens' trusted contacts, their alerts and live links, walk-me-home check-ins."""

from django.apps import AppConfig


class ContactsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "contacts"
    verbose_name = "Trusted contacts and check-ins"

    def ready(self):
        # The SOS app sits below this one: it announces a raised SOS, this app alerts her trusted contacts in
        # the same transaction (they exist if and only if the SOS does).
        from contacts import services
        from sos.hooks import sos_raised

        sos_raised.register(services.contacts_alert_sos)
