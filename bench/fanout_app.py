"""The realtime app for bench/bench_fanout.py, with the fan-out chosen by FANOUT_TRANSPORT.

* `direct` (shipped): realtime_server.fanout.FanOutTransport, one pre-built WebSocket frame per event,
  written to each idle WebSocket client's transport.
* `queued` (shipped before it): the event encoded once, then queued to each client's Engine.IO socket,
  whose writer task encodes and frames it (and compresses it, where the client negotiated deflate).
* `emit` (the first version): one `sio.emit(to=[...])` per event, a task per recipient.

With FANOUT_LEAVE=before, the disconnect path as it was before: python-socketio's own client manager (whose
disconnect tests every client's room) instead of realtime_server.manager's, and memory given back (a full
`gc.collect()`) at each halving of the clients, not once they have stopped leaving.

`GET /bench/objects` answers the live objects by type (after a full collection), for `--waves`;
`GET /bench/holders?TYPE` what holds one live object of that type (`--holders TYPE`), to find what keeps memory.

With FANOUT_PROFILE set, `GET /bench/profile/start` and `GET /bench/profile/stop` (from this machine)
bracket a cProfile of the whole process, written to the path FANOUT_PROFILE names.
"""

import cProfile
import gc
import json
import os
from collections import Counter

import django
import socketio

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "naarikavach.settings")
django.setup()

from engineio import exceptions as eio_exceptions  # noqa: E402
from engineio import packet as eio_packet  # noqa: E402
from socketio import packet as sio_packet  # noqa: E402

from realtime_server.app import create_app  # noqa: E402  (needs Django set up first)


class EmitTransport:
    def __init__(self, sio):
        self.sio = sio

    async def send(self, event: str, message: dict, to: list[str]) -> None:
        await self.sio.emit(event, message, to=to)


class QueuedTransport:
    """The fan-out as it was before realtime_server.fanout: encode once, queue to each client in a loop."""

    def __init__(self, sio):
        self.sio = sio

    async def send(self, event: str, message: dict, to: list[str]) -> None:
        encoded = sio_packet.Packet(sio_packet.EVENT, namespace="/", data=[event, message]).encode()
        packets = [eio_packet.Packet(eio_packet.MESSAGE, part)
                   for part in (encoded if isinstance(encoded, list) else [encoded])]
        manager, eio = self.sio.manager, self.sio.eio
        for sid in to:
            eio_sid = manager.eio_sid_from_sid(sid, "/")
            if eio_sid is None:
                continue
            for pkt in packets:
                try:
                    await eio.send_packet(eio_sid, pkt)
                except eio_exceptions.SocketIsClosedError:
                    break


realtime_app = create_app()
transport = os.environ.get("FANOUT_TRANSPORT", "direct")
if transport == "queued":
    realtime_app.hub.transport = QueuedTransport(realtime_app.sio)
elif transport == "emit":
    realtime_app.hub.transport = EmitTransport(realtime_app.sio)
if os.environ.get("FANOUT_LEAVE") == "before":
    # python-socketio's own client manager, swapped in before any client connects.
    realtime_app.sio.manager = socketio.AsyncManager()
    realtime_app.sio.manager.set_server(realtime_app.sio)
    realtime_app.hub.memory.settle = realtime_app.hub.memory.max_wait = 0  # due returns run at once

profiler = cProfile.Profile()


def object_counts() -> dict[str, int]:
    """Live objects by type after a full collection: what --waves compares between crowds."""
    gc.collect()
    return dict(Counter(type(o).__qualname__ for o in gc.get_objects()).most_common(40))


def holders(type_name: str) -> list[str]:
    """For one live object of this type: each referrer, and for a dict referrer, who owns the dict."""
    import types
    gc.collect()
    found = [o for o in gc.get_objects() if type(o).__qualname__ == type_name]
    if not found:
        return []
    target, out = found[0], []
    for r in gc.get_referrers(target):
        if r is found or isinstance(r, types.FrameType):
            continue
        desc = type(r).__qualname__
        if isinstance(r, dict):
            keys = [k for k, v in r.items() if v is target][:2]
            owners = []
            for owner in gc.get_referrers(r):
                if owner is found or isinstance(owner, types.FrameType):
                    continue
                attrs = [k for k, v in getattr(owner, "__dict__", {}).items() if v is r] if hasattr(owner, "__dict__") else []
                owners.append(f"{type(owner).__module__}.{type(owner).__qualname__}{attrs}")
            desc += f" keys={keys} owners={owners[:4]}"
        elif isinstance(r, types.CoroutineType):
            desc += f" {r.cr_code.co_qualname} @ {r.cr_code.co_filename.rsplit('/', 3)[-2:]}:{r.cr_frame.f_lineno if r.cr_frame else '-'}"
        elif isinstance(r, types.MethodType):
            desc += f" {r.__func__.__qualname__}"
        out.append(desc)
    return out


async def app(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/bench/holders":
        body = json.dumps(holders(scope["query_string"].decode())).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return
    if scope["type"] == "http" and scope["path"] == "/bench/objects":
        body = json.dumps(object_counts()).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return
    if scope["type"] == "http" and scope["path"].startswith("/bench/profile/") and os.environ.get("FANOUT_PROFILE"):
        if scope["path"].endswith("/start"):
            profiler.enable()
        else:
            profiler.disable()
            profiler.dump_stats(os.environ["FANOUT_PROFILE"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await realtime_app(scope, receive, send)
