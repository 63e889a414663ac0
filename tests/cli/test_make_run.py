"""`make run` as a user stops it: the server shuts down and make has nothing to complain about."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port, wait_until


def _start(data: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHLINE_")}
    env.update(BRANCHLINE_DATA_DIR=str(data), MAKEFLAGS="")
    # A session of its own, as a terminal gives make: a signal to the group reaches make,
    # the script and the server alike, as Ctrl-C does.
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"ARGS=--port {port} --no-demo"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_until(
        lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200,
        timeout=120,
        message="make run",
    )
    return proc, port


def _installed_for_tests() -> bool:
    """Whether scripts/bootstrap.sh test has installed this pyproject.toml (its stamp)."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    return (ROOT / ".venv" / f".installed-{digest}-test").exists()


def _server_pid(make_pid: int) -> int:
    out = subprocess.run(
        ["pgrep", "-s", str(make_pid), "-f", "branchline serve"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(out) == 1, out
    return int(out[0])


@pytest.mark.parametrize("how", ["sigterm to the server", "sigterm to the terminal's group", "ctrl-c"])
def test_stopping_make_run_ends_cleanly_without_make_reporting_terminated(tmp_path, how):
    log = tmp_path / "make-run.log"
    proc, _port = _start(tmp_path / "data", log)
    try:
        if how == "sigterm to the server":
            os.kill(_server_pid(proc.pid), signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT if how == "ctrl-c" else signal.SIGTERM)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = log.read_text()
    assert "Application shutdown complete" in output, output
    if _installed_for_tests():
        # `make test` installed a superset of what `make run` needs: starting installs nothing.
        # (It once reinstalled the package, minutes of pip in the middle of the suite.)
        assert "Installing" not in output, output
    assert "make: ***" not in output and "Terminated" not in output, output
    if how == "sigterm to the server":
        # Nobody signalled make itself: it ends as after any clean run.
        assert proc.returncode == 0, output
