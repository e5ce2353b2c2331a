#!/usr/bin/env sh
# Start the Django API (and dashboard) under uvicorn on :8000 (API_PORT); extra arguments go to uvicorn.
set -eu
cd "$(dirname "$0")"
PYTHON=python3
[ -x .venv/bin/python ] && PYTHON=.venv/bin/python
exec "$PYTHON" -m uvicorn naarikavach.asgi:application \
  --host "${API_HOST:-127.0.0.1}" --port "${API_PORT:-8000}" --proxy-headers --no-server-header "$@"
