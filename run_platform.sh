#!/usr/bin/env bash
# Run the whole platform in the foreground: API (:8000), realtime server (:8001), the alert sender and the
# camera offline check.
# Ctrl-C stops them all; if any one of them dies, the others are stopped too.
set -u
cd "$(dirname "$0")"
PYTHON=python3
[ -x .venv/bin/python ] && PYTHON=.venv/bin/python

pids=()
stop() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap 'stop; exit 0' INT TERM
trap stop EXIT

./run_socketio.sh & pids+=($!)
"$PYTHON" manage.py send_alerts & pids+=($!)
"$PYTHON" manage.py check_cameras --loop & pids+=($!)
./run_server.sh & pids+=($!)

echo "NaariKavach is starting: API and dashboard http://127.0.0.1:${API_PORT:-8000}/dashboard/ ," \
     "citizen SOS page http://127.0.0.1:${API_PORT:-8000}/sos/ , realtime :${REALTIME_PORT:-8001}"
wait -n
echo "A NaariKavach process exited; stopping the others." >&2
exit 1
