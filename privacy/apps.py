"""Privacy: who looked at what (the view audit), blurred evidence, chains of custody, retention, citizens' own data."""

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy and evidence custody"
