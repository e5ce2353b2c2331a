#!/usr/bin/env sh
# Start the realtime (Socket.IO) server on :8001 (REALTIME_PORT); extra arguments go to `manage.py run_realtime`.
set -eu
cd "$(dirname "$0")"
PYTHON=python3
[ -x .venv/bin/python ] && PYTHON=.venv/bin/python
# One open file per client: take the open-files limit as high as the system allows (the hard limit).
# The server logs the resulting capacity at start and refuses clients cleanly a margin below it.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 1048576 2>/dev/null || true
exec "$PYTHON" manage.py run_realtime --host "${REALTIME_HOST:-127.0.0.1}" "$@"
