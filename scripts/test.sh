#!/usr/bin/env bash
# The README's test command: installs what is missing, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
# The suite starts a few hundred server and command-line processes. Where PYTHONDONTWRITEBYTECODE
# is set (as on some CI machines) none of them could cache its compiled modules, and each
# compiled ours again: a quarter of a second of CPU per start. compileall writes them anyway.
.venv/bin/python -m compileall -q -j 0 -x node_modules api sync tests > /dev/null
# The PWA's Vitest suite runs inside pytest (tests/pwa), so one summary line closes the run.
# Two workers by default: the browser tests run one after another on one worker and every
# other file beside them (groups: tests/conftest.py). One process took 23 minutes for 2,161
# tests, too close to the 25-minute budget as the suite grows. BRANCHLINE_TEST_WORKERS=0 runs
# everything in this process (easier to read when a test hangs).
workers="${BRANCHLINE_TEST_WORKERS:-2}"
if [ "$workers" = "0" ]; then
  exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
fi
exec .venv/bin/python -m pytest -p no:cacheprovider -n "$workers" --dist loadgroup "$@"
