"""The pre-built frame is a frame any WebSocket client reads, and it is written only where it cannot reorder."""

import asyncio
import types

import pytest
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from realtime_server.fanout import direct_transport, websocket_text_frame


def parse(data: bytes) -> Frame:
    """Read one frame as a client does (websockets' own parser; server frames are unmasked)."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        return done.value
    raise AssertionError("incomplete frame")


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 200_000])
def test_the_frame_is_one_final_uncompressed_text_frame_of_the_message_at_every_length_encoding(size):
    text = "4" + "é" * (size // 2) + "x" * (size % 2)

    frame = parse(websocket_text_frame(text))

    assert (frame.opcode, frame.fin, frame.rsv1) == (Opcode.TEXT, True, False)
    assert frame.data.decode() == text


class FakeTransport:
    def __init__(self):
        self.closing = False

    def is_closing(self):
        return self.closing


def engineio_socket():
    """An Engine.IO socket opened as a WebSocket on uvicorn's protocol, its writer not started yet."""
    protocol = WebSocketsSansIOProtocol.__new__(WebSocketsSansIOProtocol)
    protocol.close_sent = protocol.disconnected = False
    protocol.writable = asyncio.Event()
    protocol.writable.set()
    protocol.transport = FakeTransport()
    ws = types.SimpleNamespace(asgi_send=protocol.send)
    return types.SimpleNamespace(direct_websocket=ws, closed=False, upgrading=False, queue=asyncio.Queue(),
                                 protocol=protocol)


async def writer_waits(socket) -> asyncio.Task:
    """Engine.IO's writer, waiting on the queue as its poll() does."""
    task = asyncio.create_task(socket.queue.get())
    while not socket.queue._getters:
        await asyncio.sleep(0)
    return task


async def test_an_idle_writer_on_an_open_websocket_lets_the_frame_be_written_directly():
    socket = engineio_socket()
    writer = await writer_waits(socket)

    assert direct_transport(socket) is socket.protocol.transport
    writer.cancel()


async def test_a_packet_still_queued_or_held_by_the_writer_sends_the_event_through_the_queue_behind_it():
    socket = engineio_socket()
    assert direct_transport(socket) is None  # the writer has not started waiting: it may hold a packet

    writer = await writer_waits(socket)
    socket.queue.put_nowait("room_joined")  # queued, not yet written
    assert direct_transport(socket) is None
    assert await writer == "room_joined"
    assert direct_transport(socket) is None  # the writer holds it until it comes back to the queue


async def test_a_closing_unwritable_or_upgraded_connection_is_sent_through_the_queue():
    closing, paused, upgraded, closed = (engineio_socket() for _ in range(4))
    writers = [await writer_waits(socket) for socket in (closing, paused, upgraded, closed)]
    closing.protocol.transport.closing = True
    paused.protocol.writable.clear()
    upgraded.direct_websocket = None  # opened as long-polling, upgraded later
    closed.protocol.close_sent = True

    assert [direct_transport(socket) for socket in (closing, paused, upgraded, closed)] == [None] * 4
    assert direct_transport(None) is None  # the session is gone
    for writer in writers:
        writer.cancel()
