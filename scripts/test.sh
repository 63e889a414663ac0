#!/usr/bin/env bash
# The README's test command: installs what is missing, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
# The PWA's Vitest suite runs inside pytest (tests/pwa), so one summary line closes the run.
# One process by default. BRANCHLINE_TEST_WORKERS=2 runs the browser tests on one worker and
# the rest beside them (groups: tests/conftest.py): about 16 minutes instead of 23, but two
# browser tests still miss their waits now and then under that load (see the closing note of
# stop 28), so CI keeps the one process until they are made robust.
workers="${BRANCHLINE_TEST_WORKERS:-0}"
if [ "$workers" = "0" ]; then
  exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
fi
exec .venv/bin/python -m pytest -p no:cacheprovider -n "$workers" --dist loadgroup "$@"
