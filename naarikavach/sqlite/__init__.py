"""Django's SQLite backend, with the write transactions of one process taking turns on a lock (see base.py)."""
