"""SOS: citizen alerts, their location trail, officer assignments and audit trail."""

from django.apps import AppConfig


class SosConfig(AppConfig):
    name = "sos"
    verbose_name = "SOS alerts"
