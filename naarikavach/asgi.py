"""ASGI entry point for the Django API (served by uvicorn on :8000)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "naarikavach.settings")
application = get_asgi_application()
