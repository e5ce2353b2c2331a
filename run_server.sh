#!/usr/bin/env sh
# Start the Django API (and dashboard) on :8000 (API_PORT) under gunicorn; extra arguments go to gunicorn.
#
# WSGI with threads, not ASGI: the views are synchronous, and under ASGI every request hops to a
# fresh thread with a fresh database connection, which halved throughput in bench/bench_realtime.py.
# Threads keep persistent connections. The realtime server is the ASGI (uvicorn) process.
# API_ACCESS_LOG: where the access log goes ("-", the default: stdout; a file; empty: no access log).
set -eu
cd "$(dirname "$0")"
BIN=""
[ -x .venv/bin/gunicorn ] && BIN=.venv/bin/
ACCESS_LOG="${API_ACCESS_LOG--}"
if [ -n "$ACCESS_LOG" ]; then
  set -- --access-logfile "$ACCESS_LOG" "$@"
fi
# Each instance its own control socket (gunicorn's default path is one per user: two instances on one host
# would take each other's).
mkdir -p .local
exec "${BIN}gunicorn" naarikavach.wsgi:application \
  --control-socket ".local/gunicorn-${API_PORT:-8000}.ctl" \
  --bind "${API_HOST:-127.0.0.1}:${API_PORT:-8000}" \
  --workers "${API_WORKERS:-2}" --threads "${API_THREADS:-4}" --worker-class gthread \
  --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" "$@"
