"""`make test` hands each worker whole test files, so a file's module-scoped server starts once.

The earlier grouping (xdist_group marks added by a conftest hook) never took effect: the marks
came after pytest-xdist had read them, 150 files were split test by test between the two
workers, and some 200 s of server starts ran twice (the suite went over its 25 minutes). This
runs two small files under the very distribution `scripts/test.sh` asks for and counts where
each file's module fixture was set up.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_FILE = textwrap.dedent(
    """
    import os
    import pytest

    @pytest.fixture(scope="module")
    def server():
        # What a module-scoped server costs: noted once per worker that sets it up.
        with open(os.environ["SETUPS_LOG"], "a") as log:
            log.write(f"{__name__} {os.environ.get('PYTEST_XDIST_WORKER', 'main')}\\n")
        return object()

    @pytest.mark.parametrize("i", range(6))
    def test_uses_the_server(server, i):
        assert server is not None
    """
)


def _distribution() -> list[str]:
    """The `-n` and `--dist` that scripts/test.sh passes to pytest."""
    script = (ROOT / "scripts" / "test.sh").read_text()
    dist = re.search(r"--dist\s+(\w+)", script)
    assert dist is not None, "scripts/test.sh no longer names a --dist mode"
    return ["-n", "2", "--dist", dist.group(1)]


def test_each_file_runs_whole_on_one_worker(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    for name in ("test_alpha.py", "test_beta.py", "test_gamma.py"):
        (suite / name).write_text(_FILE)
    log = tmp_path / "setups.log"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *_distribution(), str(suite)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "SETUPS_LOG": str(log), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "18 passed" in done.stdout, done.stdout
    workers: dict[str, list[str]] = defaultdict(list)
    for line in log.read_text().splitlines():
        module, worker = line.split()
        workers[module].append(worker)
    # Each file's fixture was set up exactly once, on one of the two workers.
    assert sorted(workers) == ["test_alpha", "test_beta", "test_gamma"], dict(workers)
    assert all(len(w) == 1 for w in workers.values()), dict(workers)
    assert {w[0] for w in workers.values()} <= {"gw0", "gw1"}, dict(workers)
