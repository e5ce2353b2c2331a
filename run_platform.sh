#!/usr/bin/env bash
# Run the whole platform in the foreground: API (:8000), realtime server (:8001) and the background worker
# (escalation scheduler and alert sender, `manage.py run_worker`).
# Ctrl-C stops all three; if any one of them dies, the others are stopped too.
set -u
cd "$(dirname "$0")"
PYTHON=python3
[ -x .venv/bin/python ] && PYTHON=.venv/bin/python

# One directory for every process's Prometheus counts: the API's GET /metrics then adds up its gunicorn
# workers and the worker's alert deliveries. Stale counts of an earlier run are cleared first.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/.local/prometheus}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR" && rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db

pids=()
stop() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap 'stop; exit 0' INT TERM
trap stop EXIT

./run_socketio.sh & pids+=($!)
# The background worker: escalations (and duress cancels, missed check-ins), email and webhook alerts.
"$PYTHON" manage.py run_worker & pids+=($!)
# Messages to citizens' trusted contacts (their own outbox).
"$PYTHON" manage.py send_contact_alerts & pids+=($!)
./run_server.sh & pids+=($!)

echo "NaariKavach is starting: API and dashboard http://127.0.0.1:${API_PORT:-8000}/dashboard/ ," \
     "citizen SOS page http://127.0.0.1:${API_PORT:-8000}/sos/ , realtime :${REALTIME_PORT:-8001}"
wait -n
echo "A NaariKavach process exited; stopping the others." >&2
exit 1
