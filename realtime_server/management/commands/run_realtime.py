"""Run the realtime (Socket.IO) server under uvicorn: `python manage.py run_realtime --port 8001`."""

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the Socket.IO server that delivers outbox events to clients (ASGI, uvicorn)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on (0.0.0.0 for a LAN).")
        parser.add_argument("--port", type=int, default=settings.REALTIME_PORT)
        parser.add_argument("--log-level", default="info")
        parser.add_argument(
            "--graceful-timeout", type=float, default=3,
            help="Seconds to wait for open requests on shutdown: a long-poll could hold it for 25 s, "
            "and clients resume anyway.",
        )

    def handle(self, *args, host, port, log_level, graceful_timeout, **options):
        # One process per port: several processes behind a load balancer are documented in docs/realtime.md.
        # ws_max_size: an oversized WebSocket message is refused as it arrives, never buffered (the
        # default would take 16 MiB per message). See realtime_server/limits.py for the other limits.
        uvicorn.run("realtime_server.asgi:app", host=host, port=port, log_level=log_level, lifespan="on",
                    timeout_graceful_shutdown=graceful_timeout, ws_max_size=settings.REALTIME_MAX_MESSAGE_BYTES)
