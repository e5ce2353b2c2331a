from django.apps import AppConfig


class NaarikavachConfig(AppConfig):
    """The project package as an app only so that its management commands (load_demo) are found."""

    name = "naarikavach"
    verbose_name = "NaariKavach"
