"""Incidents: AI detection reports, grouped into incidents with private evidence, and alerts."""

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"
