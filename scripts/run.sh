#!/usr/bin/env bash
# The README's run command: installs what is missing, builds the web app, starts Branchline on
# the embedded default. On an empty data folder it creates the demo tenant and prints the logins.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh run
export BRANCHLINE_DATA_DIR="${BRANCHLINE_DATA_DIR:-$PWD/data}"
exec .venv/bin/branchline serve "$@"
