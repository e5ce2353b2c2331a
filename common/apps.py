"""The shared kernel as an app, for the one table it owns: the heads of the audit chains."""

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Shared kernel"
