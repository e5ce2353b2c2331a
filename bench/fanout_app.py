"""The realtime app for bench/bench_fanout.py: as shipped, or (FANOUT_TRANSPORT=baseline) as it was before.

The baseline sends each event with one `sio.emit(to=[...])`, which encodes it once but creates one asyncio
task per recipient and waits for them all, and never gives memory back after clients leave; the shipped
app queues the encoded packet to each client in a loop and returns memory when the crowd halves.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "naarikavach.settings")
django.setup()

from realtime_server.app import create_app  # noqa: E402  (needs Django set up first)


class EmitTransport:
    def __init__(self, sio):
        self.sio = sio

    async def send(self, event: str, message: dict, to: list[str]) -> None:
        await self.sio.emit(event, message, to=to)


if os.environ.get("FANOUT_TRANSPORT") == "baseline":
    from realtime_server.capacity import MemoryReturner

    MemoryReturner.clients_changed = lambda self, clients: False
    app = create_app()
    app.hub.transport = EmitTransport(app.sio)
else:
    app = create_app()
