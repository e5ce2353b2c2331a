#!/usr/bin/env sh
# Start the realtime (Socket.IO) server on :8001 (REALTIME_PORT); extra arguments go to `manage.py run_realtime`.
set -eu
cd "$(dirname "$0")"
PYTHON=python3
[ -x .venv/bin/python ] && PYTHON=.venv/bin/python
exec "$PYTHON" manage.py run_realtime --host "${REALTIME_HOST:-127.0.0.1}" "$@"
