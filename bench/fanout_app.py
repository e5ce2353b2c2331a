"""The realtime app twice, for bench/bench_fanout.py: `current` as shipped, `baseline` with the previous fan-out.

The baseline sends each event with one `sio.emit(to=[...])`, which encodes it once but creates one asyncio
task per recipient and waits for them all; `current` queues the encoded packet to each client in a loop.
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
    app = create_app()
    app.hub.transport = EmitTransport(app.sio)
else:
    app = create_app()
