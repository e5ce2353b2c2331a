"""SQLite with the writers of one process queued on a lock of the process, not in SQLite's busy handler.

Write transactions begin with BEGIN IMMEDIATE (settings.py), so when two threads of one API process
write at once, the second is handed to SQLite's busy handler, which sleeps 1, 2, 5, 10 ... 100 ms
between tries however soon the lock is free again; under 100 location posts/s that sleeping made the
REST call's tail. Here the second thread waits on a lock of the process and starts as soon as the
first commits or rolls back. Writers in other processes still meet the busy handler, so on SQLite the
API runs as one process with threads (run_server.sh).
"""

import threading
from typing import Any

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

_locks: dict[str, Any] = {}
_locks_guard = threading.Lock()


def _writer_lock(name: str):
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _held_writer_lock: Any = None  # the process's lock for this database, while this connection writes

    def _start_transaction_under_autocommit(self):
        if self.transaction_mode not in ("IMMEDIATE", "EXCLUSIVE"):
            return super()._start_transaction_under_autocommit()
        lock = _writer_lock(str(self.settings_dict["NAME"]))
        # Wait no longer than SQLite itself would (the "timeout" option, or a busy_timeout set since).
        busy_timeout_ms = self.connection.execute("PRAGMA busy_timeout").fetchone()[0]
        if not lock.acquire(timeout=busy_timeout_ms / 1000):
            raise OperationalError("database is locked")
        self._held_writer_lock = lock
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        # Closing a connection inside a transaction rolls it back.
        try:
            return super()._close()
        finally:
            self._release_writer_lock()

    def _release_writer_lock(self) -> None:
        lock, self._held_writer_lock = self._held_writer_lock, None
        if lock is not None:
            lock.release()
