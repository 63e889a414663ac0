#!/usr/bin/env bash
# The README's test command: installs what is missing, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
# The PWA's Vitest suite runs inside pytest (tests/pwa), so one summary line closes the run.
# Two workers: the browser tests on one, the rest beside them (groups: tests/conftest.py).
# BRANCHLINE_TEST_WORKERS=0 runs everything in this one process.
workers="${BRANCHLINE_TEST_WORKERS:-2}"
if [ "$workers" = "0" ]; then
  exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
fi
exec .venv/bin/python -m pytest -p no:cacheprovider -n "$workers" --dist loadgroup "$@"
