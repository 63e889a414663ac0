"""The one command line the benchmarks start Branchline's real app with (uvicorn, loopback)."""

from __future__ import annotations

import sys


def serve_command(
    port: int, *, log_level: str = "warning", access_log: bool = False, graceful_s: int | None = None
) -> list[str]:
    """`python -m uvicorn` serving `api.app:create_app` on 127.0.0.1:`port` (run with cwd=ROOT)."""
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", log_level]
    if not access_log:
        cmd.append("--no-access-log")
    if graceful_s is not None:
        cmd += ["--timeout-graceful-shutdown", str(graceful_s)]
    return cmd
