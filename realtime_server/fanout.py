"""Fan-out: one event to thousands of clients as one WebSocket frame, built once and written to each socket.

The Engine.IO path costs, per client and event: a queue put, a wake-up of that client's writer task (and
a timer for its next wait), the message encoded again, and the WebSocket library's framing (and, where
the client negotiated permessage-deflate, a compression of its own). At 10,000 clients that is most of a
second of one core for one event. Here the event is encoded and framed once per event (an uncompressed
text frame, which RFC 7692 allows whatever the client negotiated), and written to each client's
transport directly.

Only where that cannot reorder a client's stream: the client opened its connection as a WebSocket (not
upgraded from long-polling), its Engine.IO writer is idle (nothing queued, waiting on the queue), and
uvicorn's WebSocket protocol (the sans-I/O one, uvicorn's default) is open and writable. Otherwise the
packet goes through Engine.IO's queue as before, behind what is already there.
"""

import struct

from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_drivers.asgi import WebSocket
from socketio import packet as sio_packet
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class DirectWebSocket(WebSocket):
    """Engine.IO's ASGI WebSocket, remembered on its Engine.IO socket when the connection opened as one."""

    async def __call__(self, environ):
        socket = getattr(self.handler, "__self__", None)
        if socket is not None and not socket.connected:  # not an upgrade from long-polling
            socket.direct_websocket = self
        return await super().__call__(environ)


def install(sio) -> None:
    """Make the server's Engine.IO sockets remember their WebSocket (for `direct_transport`)."""
    sio.eio._async = {**sio.eio._async, "websocket": DirectWebSocket}


def websocket_text_frame(text: str) -> bytes:
    """A final, unmasked (server to client), uncompressed text frame."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


def direct_transport(socket):
    """The asyncio transport to write a frame to for this Engine.IO socket, or None to use its queue."""
    ws = getattr(socket, "direct_websocket", None)
    if ws is None or socket.closed or socket.upgrading:
        return None
    queue = socket.queue
    # The writer task holds nothing in hand only while it waits on an empty queue; otherwise a frame
    # written now would overtake the packets it has yet to write.
    if not queue.empty() or not queue._getters:
        return None
    protocol = getattr(ws.asgi_send, "__self__", None)
    if (not isinstance(protocol, WebSocketsSansIOProtocol) or protocol.close_sent or protocol.disconnected
            or not protocol.writable.is_set()):
        return None
    transport = protocol.transport
    if transport is None or transport.is_closing():
        return None
    return transport


class FanOutTransport:
    """The hub's transport: one encoding and one frame per event, written to each recipient."""

    def __init__(self, sio):
        self.sio = sio
        self.direct = 0  # deliveries written as a pre-built frame
        self.queued = 0  # deliveries that went through Engine.IO's queue

    async def send(self, event: str, message: dict, to: list[str]) -> None:
        encoded = sio_packet.Packet(sio_packet.EVENT, namespace="/", data=[event, message]).encode()
        if isinstance(encoded, list):  # binary attachments: several packets, Engine.IO's path only
            packets, frame = [eio_packet.Packet(eio_packet.MESSAGE, part) for part in encoded], None
        else:
            packets = [eio_packet.Packet(eio_packet.MESSAGE, encoded)]
            frame = websocket_text_frame(packets[0].encode())
        manager, eio = self.sio.manager, self.sio.eio
        sockets = eio.sockets
        for sid in to:
            eio_sid = manager.eio_sid_from_sid(sid, "/")
            if eio_sid is None:
                continue
            transport = frame and direct_transport(sockets.get(eio_sid))
            if transport is not None:
                transport.write(frame)
                self.direct += 1
                continue
            self.queued += 1
            for pkt in packets:
                try:
                    await eio.send_packet(eio_sid, pkt)
                except eio_exceptions.SocketIsClosedError:
                    break  # it left meanwhile; its disconnect handler removes it from the hub

    def stats(self) -> dict:
        return {"delivered_direct": self.direct, "delivered_queued": self.queued}
