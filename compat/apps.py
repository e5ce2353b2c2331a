from django.apps import AppConfig


class CompatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "compat"
    verbose_name = "Compatibility with the NaariKavach and ResQ clients"
