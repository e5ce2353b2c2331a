"""WSGI entry point (for WSGI servers; the default run uses ASGI)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "naarikavach.settings")
application = get_wsgi_application()
