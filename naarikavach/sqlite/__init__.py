"""Django's SQLite backend, with writers taking turns on a lock instead of SQLite's busy handler (see base.py)."""
