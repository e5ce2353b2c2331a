"""SQLite whose writers wait their turn on a lock, not in SQLite's busy handler.

Write transactions begin with BEGIN IMMEDIATE (settings.py), so a connection that starts writing while
another writes is handed to SQLite's busy handler, which sleeps 1, 2, 5, 10 ... 100 ms between tries
however soon the database is free again; under 100 location posts/s that sleeping made the REST call's
tail. Here a writer first takes its process's lock (threads of one process queue on it and start the
moment the writer before them finishes), then an exclusive lock on a file beside the database, which
is what lets several API processes share one SQLite file: it is tried every millisecond, not on SQLite's
schedule. Neither wait outlasts the connection's busy timeout; then, as with SQLite's own wait, the
caller gets "database is locked" (which the API answers with 503 and Retry-After).
"""

import fcntl
import os
import threading
import time
from pathlib import Path

from django.db.backends.sqlite3 import base, creation
from django.db.utils import OperationalError

FILE_LOCK_RETRY_SECONDS = 0.001


def lock_file_for(database: str) -> Path:
    return Path(f"{database}-writer.lock")


class WriterLock:
    """The turn to write to one database file, for the threads of this process and for other processes."""

    def __init__(self, database: str | None):
        self.path = lock_file_for(database) if database else None  # None: an in-memory database
        self.thread_lock = threading.Lock()
        self.fd: int | None = None
        self.pid: int | None = None
        self.queued = 0  # threads of this process waiting for their turn now (an operator's and a test's view)

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self.thread_lock.acquire(blocking=False):
            self.queued += 1
            try:
                if not self.thread_lock.acquire(timeout=timeout):
                    return False
            finally:
                self.queued -= 1
        try:
            if self.path is None or self._lock_file(deadline):
                return True
        except BaseException:
            self.thread_lock.release()
            raise
        self.thread_lock.release()
        return False

    def release(self) -> None:
        if self.path is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.thread_lock.release()

    def _lock_file(self, deadline: float) -> bool:
        if self.pid != os.getpid():
            # A forked child must not share its parent's open file: flock() locks belong to it, so
            # parent and child would never exclude each other.
            if self.fd is not None:
                os.close(self.fd)
            self.fd, self.pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(FILE_LOCK_RETRY_SECONDS)


def _private_file(path: str) -> None:
    """Create `path` as mode 0600, or make an existing file of ours 0600.

    An existing database is never opened here: closing any descriptor of a file drops every POSIX
    lock this process holds on it, which would silently release the locks of SQLite's own connections.
    """
    try:
        if not os.path.exists(path):
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass  # Not ours to change (a read-only or foreign file): SQLite itself reports what matters.


_locks: dict[str, WriterLock] = {}
_locks_guard = threading.Lock()


def _writer_lock(database: str, in_memory: bool) -> WriterLock:
    with _locks_guard:
        if database not in _locks:
            _locks[database] = WriterLock(None if in_memory else database)
        return _locks[database]


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name, verbosity):
        super()._destroy_test_db(test_database_name, verbosity)
        if not self.is_in_memory_db(test_database_name):
            lock_file_for(test_database_name).unlink(missing_ok=True)


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
    _held_writer_lock: WriterLock | None = None  # while this connection is in a write transaction

    def get_new_connection(self, conn_params):
        # The database holds phone numbers and token hashes: readable by its owner only. SQLite gives
        # its -wal and -shm files the database file's permissions.
        if not self.is_in_memory_db():
            _private_file(str(self.settings_dict["NAME"]))
        return super().get_new_connection(conn_params)

    def _start_transaction_under_autocommit(self):
        if self.transaction_mode not in ("IMMEDIATE", "EXCLUSIVE"):
            return super()._start_transaction_under_autocommit()
        name = str(self.settings_dict["NAME"])
        lock = _writer_lock(name, self.is_in_memory_db())
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
