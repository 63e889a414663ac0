#!/usr/bin/env bash
# The README's run command: installs what is missing, builds the web app, starts Branchline on
# the embedded default. On an empty data folder it creates the demo tenant and prints the logins.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh run
export BRANCHLINE_DATA_DIR="${BRANCHLINE_DATA_DIR:-$PWD/data}"

# Stopping is the normal way to end `make run` (Ctrl-C, or SIGTERM from a service manager).
# The server shuts down gracefully and then, as uvicorn does, dies of the signal it caught,
# which make reports as "*** [run] Terminated". So the server runs as a child: a signal is
# passed on to it, and once it has shut down this script exits 0, the clean end it was.
server=""
stop() {
  trap '' INT TERM
  [ -n "$server" ] && kill -TERM "$server" 2>/dev/null || true
}
trap stop INT TERM
.venv/bin/branchline serve "$@" &
server=$!
status=0
# `wait` returns early when a trapped signal arrives; wait again until the server has gone.
while kill -0 "$server" 2>/dev/null; do
  wait "$server" && status=0 || status=$?
done
case "$status" in
  130 | 143) exit 0 ;;  # ended by SIGINT or SIGTERM after a graceful shutdown
  *) exit "$status" ;;
esac
