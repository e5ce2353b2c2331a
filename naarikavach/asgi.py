"""ASGI entry point for the Django API, for ASGI servers; run_server.sh serves the WSGI one (see there why)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "naarikavach.settings")
application = get_asgi_application()
