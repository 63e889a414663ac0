"""What the benchmarks share: the one command line they start Branchline's real app with
(uvicorn, loopback), and how they read a process's CPU."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

# The protocol `branchline serve` runs (api/core/http_protocol.py: an answer in one write).
HTTP_PROTOCOL = "api.core.http_protocol:HttpProtocol"
# Its event loop (api/core/event_loop.py: uvloop taking up to 16 waiting connections a turn).
EVENT_LOOP = "api.core.event_loop:new_event_loop"


def serve_command(
    port: int,
    *,
    log_level: str = "warning",
    access_log: bool = False,
    graceful_s: int | None = None,
    workers: int = 1,
) -> list[str]:
    """`python -m uvicorn` serving `api.app:create_app` on 127.0.0.1:`port` (run with cwd=ROOT).

    With `workers` above one, give the server `BRANCHLINE_PROCESSES` the same number."""
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "api.app:create_app",
        "--http",
        HTTP_PROTOCOL,
        "--loop",
        EVENT_LOOP,
    ]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", log_level]
    cmd += ["--timeout-keep-alive", "75"]  # as `branchline serve` (api/cli.py: KEEP_ALIVE_S)
    if not access_log:
        cmd.append("--no-access-log")
    if graceful_s is not None:
        cmd += ["--timeout-graceful-shutdown", str(graceful_s)]
    return cmd


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process and its children have used so far (Linux /proc):
    a server run with several worker processes counts them all.

    CPU seconds are the stable figure on a shared machine: wall time moves with whatever else
    runs, the server's own work much less.
    """
    total = 0.0
    for one in process_tree(pid):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn's worker processes, and their own children)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        one = todo.pop()
        out.append(one)
        todo.extend(parents.get(one, ()))
    return out


def bench_env(data_dir: str | Path, **settings: str) -> dict[str, str]:
    """The environment of a benchmark's server: this one's, a fresh data folder and secret,
    warnings only and no rate limits (the benchmark is the only client), plus `settings`
    (`BRANCHLINE_` names)."""
    return {
        **os.environ,
        "BRANCHLINE_DATA_DIR": str(data_dir),
        "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40),
        "BRANCHLINE_LOG_LEVEL": "warning",
        "BRANCHLINE_RATE_LIMITS_ENABLED": "false",
        **settings,
    }
