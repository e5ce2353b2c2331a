"""A crowd leaving at once: each disconnect costs the client manager O(1), not O(connected clients).

python-socketio's own manager tested the leaving client's membership in every room of the namespace, and
every client has a room of its own; and memory was given back (a full `gc.collect()`) at each halving of
the crowd, while it was still there. 10,000 clients leaving took minutes of the event loop (see
realtime_server/manager.py and docs/benchmarks.md "Mass disconnect"). These tests count that work rather
than time it, so a shared, busy machine cannot make them flaky.
"""

import asyncio
import gc
import time

import socketio
from bidict import BidictBase

from realtime_server.capacity import MemoryReturner
from realtime_server.manager import IndexedAsyncManager


def _server(manager):
    return socketio.AsyncServer(client_manager=manager, async_mode="asgi")


class CountingRooms(dict):
    """A namespace's room table that counts the rooms handed out by walks over the whole table."""

    walked = 0

    def copy(self):
        CountingRooms.walked += len(self)
        return CountingRooms(self)

    def items(self):
        CountingRooms.walked += len(self)
        return super().items()

    def values(self):
        CountingRooms.walked += len(self)
        return super().values()


async def _connect(manager, count, namespace="/"):
    sids = []
    for n in range(count):
        sid = await manager.pre_connect(f"eio-{n}", namespace)
        await manager.connect(sid, namespace)
        sids.append(sid)
    return sids


async def test_disconnecting_n_clients_costs_the_manager_o_n_room_lookups(monkeypatch):
    clients = 2_000
    manager = IndexedAsyncManager()
    _server(manager)
    sids = await _connect(manager, clients)
    manager.rooms["/"] = CountingRooms(manager.rooms["/"])
    lookups = 0
    contains = BidictBase.__contains__

    def counting_contains(room, key):
        nonlocal lookups
        lookups += 1
        return contains(room, key)

    monkeypatch.setattr(BidictBase, "__contains__", counting_contains)
    CountingRooms.walked = 0
    for sid in sids:
        manager.pre_disconnect(sid, "/")
        await manager.disconnect(sid, "/", ignore_queue=True)

    # python-socketio's own manager: about clients² / 2 of each (2,000,000 here).
    assert lookups <= 4 * clients
    assert CountingRooms.walked <= 4 * clients
    assert manager.rooms == {} and manager.rooms_of == {}
    assert manager.pending_disconnect == {} and manager.pending_connect == {}


async def _script(manager):
    """The same connects, joins, leaves and disconnects, on either manager; what it leaves behind."""
    _server(manager)
    sids = await _connect(manager, 6)
    other = await _connect(manager, 2, namespace="/other")
    pending = await manager.pre_connect("eio-pending", "/")  # still signing in when it goes
    for sid in sids[:4]:
        await manager.enter_room(sid, "/", "sos_channel")
    await manager.enter_room(sids[0], "/", "unit:7")
    await manager.leave_room(sids[1], "/", "sos_channel")
    manager._generate_ack_id(sids[2], lambda *args: None)
    rooms_before = {sid: sorted(map(str, manager.get_rooms(sid, "/"))) for sid in sids}
    for sid in (sids[0], sids[2], sids[5], pending):
        manager.pre_disconnect(sid, "/")
        await manager.disconnect(sid, "/", ignore_queue=True)
    manager.pre_disconnect(other[0], "/other")
    await manager.disconnect(other[0], "/other", ignore_queue=True)
    tables = {ns: {room: dict(members) for room, members in table.items()} for ns, table in manager.rooms.items()}
    # Room names made of sids differ between runs (fresh ids): compare them by their client's position.
    names = {sid: f"client-{n}" for n, sid in enumerate(sids + other + [pending])}

    def rename(value):
        return names.get(value, value)

    tables = {ns: {rename(room): {rename(sid): eio for sid, eio in members.items()}
                   for room, members in table.items()} for ns, table in tables.items()}
    rooms_before = {rename(sid): [rename(r) for r in rooms] for sid, rooms in rooms_before.items()}
    rooms_after = {rename(sid): sorted(map(str, (rename(r) for r in manager.get_rooms(sid, "/")))) for sid in sids}
    return {"tables": tables, "rooms_before": {k: sorted(v) for k, v in rooms_before.items()},
            "rooms_after": rooms_after, "callbacks": sorted(rename(sid) for sid in manager.callbacks),
            "pending_connect": manager.pending_connect, "pending_disconnect": manager.pending_disconnect,
            "connected": [manager.is_connected(sid, "/") for sid in sids]}


async def test_the_indexed_manager_leaves_the_same_rooms_as_python_socketios_own():
    ours, theirs = await _script(IndexedAsyncManager()), await _script(socketio.AsyncManager())
    assert ours == theirs
    assert ours["tables"]["/"]["sos_channel"] == {"client-3": "eio-3"}
    assert ours["rooms_after"]["client-0"] == [] and ours["rooms_after"]["client-3"] == ["client-3", "sos_channel"]


async def test_the_realtime_server_uses_the_indexed_manager(settings):
    from realtime_server.app import create_app

    assert isinstance(create_app().sio.manager, IndexedAsyncManager)


async def test_the_realtime_server_gives_memory_back_again_after_engineio_lets_go_of_sockets(settings):
    from realtime_server.app import create_app

    app = create_app()
    assert app.hub.memory.linger > max(app.sio.eio.ping_interval, app.sio.eio.ping_timeout)


async def _wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_crowd_leaving_gets_one_memory_return_once_it_has_gone_not_one_per_halving(monkeypatch):
    collections = []
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(args) or 0)
    memory = MemoryReturner(min_left=250, settle=0.05)
    for clients in range(1, 4_001):
        memory.clients_changed(clients)
    due = [memory.clients_changed(clients) for clients in range(3_999, -1, -1)]

    assert sum(due) >= 4  # halvings at 2,000, 1,000, 500, 250...
    assert collections == []  # nothing walked the heap on the event loop while the crowd was leaving
    await _wait_for(lambda: memory.returns == 1)
    assert len(collections) == 1


async def test_under_a_steady_stream_of_changes_memory_is_still_given_back_within_max_wait(monkeypatch):
    monkeypatch.setattr(gc, "collect", lambda *args: 0)
    now = [0.0]
    memory = MemoryReturner(min_left=1, settle=0.01, max_wait=1.0, clock=lambda: now[0])
    memory.clients_changed(10)
    assert memory.clients_changed(4) is True
    now[0] = 5.0
    memory.clients_changed(5)  # the clock stands still: to the returner, clients are still changing "just now"
    await _wait_for(lambda: memory.returns == 1)


async def test_memory_is_given_back_again_once_engineio_has_let_go_of_the_departed_sockets(monkeypatch):
    # Engine.IO's ping and service tasks hold a departed client's socket for up to a ping interval: the first
    # return (the crowd settled) cannot free it, the follow-up `linger` seconds later can.
    collections = []
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(args) or 0)
    memory = MemoryReturner(min_left=1, settle=0.01, linger=0.05)
    for clients in (10, 4, 1, 0):
        memory.clients_changed(clients)
    await _wait_for(lambda: memory.returns == 1)
    memory.clients_changed(5)
    memory.clients_changed(0)  # another crowd gone before the follow-up: still one follow-up pending at most
    await _wait_for(lambda: memory.returns == 3)  # its own settled return, and the one follow-up
    await asyncio.sleep(0.15)
    assert memory.returns == 3 and len(collections) == 3
