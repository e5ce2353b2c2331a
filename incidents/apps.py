"""Incidents: AI detection reports, grouped into incidents with private evidence, and alerts."""

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        from incidents import schema  # noqa: F401 - registers the schema extension for device authentication
