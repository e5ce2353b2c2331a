"""ASGI entry point of the realtime server: `uvicorn realtime_server.asgi:app --port 8001`."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "naarikavach.settings")
django.setup()

from realtime_server.app import create_app  # noqa: E402  (needs Django set up first)

app = create_app()
