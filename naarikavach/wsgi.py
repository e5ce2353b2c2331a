"""WSGI entry point: run_server.sh serves it with gunicorn."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "naarikavach.settings")
application = get_wsgi_application()

# What is loaded by now (Django, the apps, their modules and classes) lives as long as the process.
# Frozen, it is left out of the garbage collector's scans, which otherwise walked all of it in every
# full collection: 80 ms pauses of every request in flight, every few seconds at 100 requests/s.
gc.freeze()
