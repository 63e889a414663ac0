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
# Two workers by default, each taking whole test files (`--dist loadfile`): a file's
# module-scoped server then starts once, not once on each worker. Test by test, 150 files
# were split between the two and some 200 s of server starts ran twice (the suite took
# 25:38 with durations kept). Browser tests run beside each other; each drives its own
# Chromium against its own server and waits on conditions, never on time.
# BRANCHLINE_TEST_WORKERS=0 runs everything in this process (easier to read when a test hangs).
workers="${BRANCHLINE_TEST_WORKERS:-2}"
if [ "$workers" = "0" ]; then
  exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
fi
exec .venv/bin/python -m pytest -p no:cacheprovider -n "$workers" --dist loadfile "$@"
