"""Django app entry for the detection worker; it only contributes the run_detector command."""

from django.apps import AppConfig


class DetectionConfig(AppConfig):
    name = "detection"
    verbose_name = "CCTV detection worker"
