"""python-socketio's client manager, with a per-client index of its rooms so that a disconnect costs O(1).

python-socketio's `basic_disconnect` finds a leaving client's rooms by copying the namespace's room table
and testing the client's membership in every room. Every client has a room of its own (named by its
sid), so that table holds one room per connected client: each disconnect costs O(clients), and a crowd
of N clients leaving at once costs O(N²) on the event loop (measured: 1,000 clients 0.06 s, 8,000
clients 3.2 s of the manager alone on an idle core; see docs/benchmarks.md "Mass disconnect"). `get_rooms`
walks the same table.

Here each client's rooms are also kept in `rooms_of[(namespace, sid)]`, maintained where python-socketio
enters and leaves rooms, and the disconnect and `get_rooms` read that index instead. Everything else
(emits, the room table itself, pending connects and disconnects) is python-socketio's own.
"""

import socketio


class IndexedAsyncManager(socketio.AsyncManager):
    def __init__(self):
        super().__init__()
        self.rooms_of: dict[tuple[str, str], set] = {}  # (namespace, sid) -> the rooms it is in (None included)

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # raises before anything is entered
        self.rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        rooms = self.rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self.rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid, namespace, **kwargs):
        if namespace not in self.rooms:
            return
        for room in list(self.rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.rooms_of.pop((namespace, sid), None)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]

    def get_rooms(self, sid, namespace):
        return [room for room in self.rooms_of.get((namespace, sid), ()) if room is not None]
