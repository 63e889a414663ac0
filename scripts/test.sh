#!/usr/bin/env bash
# The README's test command: installs what is missing, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
# The PWA's Vitest suite runs inside pytest (tests/pwa), so one summary line closes the run.
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
