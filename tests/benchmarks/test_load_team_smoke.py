"""benchmarks/load_team.py cannot rot: a team of four runs for a few seconds, end to end.

The script starts its own server and Node load generator, so this runs it as a user would
and reads what it prints: every figure is there, and nothing failed or got lost.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

LABELS = (
    "events/s",
    "REST write",
    "device to server",
    "device to device",
    "export (markdown)",
    "errors",
    "server CPU",
    "server RSS",
    "open descriptors",
    "load generator CPU",
    "generator loop delay",
    "load average",
)


def run_load_team(*args: str) -> tuple[str, dict]:
    """load_team.py with `args` (and --json), as a user runs it: what it printed, and the
    figures of its JSON line. Fails the test if it exited with an error."""
    proc = subprocess.run(
        [sys.executable, "benchmarks/load_team.py", *args, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    return out, json.loads(next(line for line in out.splitlines() if line.startswith("{")))


def test_a_team_of_four_prints_every_figure_and_no_errors() -> None:
    # Half the events over REST and two exports a second: four engineers in five seconds
    # still produce every kind of measurement.
    out, figures = run_load_team(
        *("--engineers", "4", "--duration", "5", "--processes", "1", "--rest-share", "0.5"),
        *("--exports-per-minute", "120", "--drain", "10"),
    )
    lines = out.splitlines()
    for label in LABELS:
        assert any(line.startswith(label) for line in lines), f"{label!r} missing from:\n{out}"
    assert figures["errors"] == 0 and figures["lost"] == 0, out
    for kind in ("rest", "d2s", "d2d", "export"):
        assert figures[kind]["n"] > 0 and figures[kind]["p99"] is not None, (kind, out)
    assert figures["events_per_s"] > 0 and figures["server_cpu_s"] > 0 and figures["generator_cpu_s"] > 0, out
    assert figures["rss_mb"] > 0 and figures["fds"] > 0, out
    assert 0 <= figures["generator_loop_delay_ms"]["p50"] <= figures["generator_loop_delay_ms"]["max"], out


def test_a_team_that_loses_its_connections_at_once_is_back_and_loses_nothing() -> None:
    """`--drop-at`: every device's connections close at once as the window opens (0 was once
    taken for "no drop"); each engineer's next write reaches the server, and the figures say
    how long that took."""
    out, figures = run_load_team(
        *("--engineers", "4", "--duration", "8", "--processes", "1", "--drain", "15", "--drop-at", "0")
    )
    assert any(line.startswith("connections dropped") for line in out.splitlines()), out
    drop = figures["drop"]
    # Each device had open connections (its live feeds) when they were dropped.
    assert drop["sockets"] >= 4, out
    assert drop["unrecovered"] == 0 and drop["recovery"]["n"] == 4, out
    assert figures["lost"] == 0 and figures["undelivered"] == 0, out


def test_a_drop_outside_the_window_is_refused_before_anything_starts() -> None:
    # At or past the end it would land in the drain, and every engineer would count as never
    # back: a failed run that says nothing about the server.
    proc = subprocess.run(
        [sys.executable, "benchmarks/load_team.py", "--duration", "8", "--drop-at", "8"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--drop-at must be at least 0 and under --duration (8 s)" in proc.stderr
    assert proc.stdout == ""  # no server, no generator started


def test_closed_loop_writers_move_on_to_fresh_sessions_and_lose_nothing() -> None:
    """`--closed-loop --session-events 5`: back-to-back REST writes, each engineer starting a
    new session after five events; every event acknowledged is on the server afterwards, in
    whichever session it went to."""
    out, figures = run_load_team(
        *("--engineers", "4", "--duration", "4", "--processes", "1", "--drain", "10"),
        *("--closed-loop", "--writers", "4", "--session-events", "5"),
    )
    assert any(line.startswith("sessions started") for line in out.splitlines()), out
    assert figures["errors"] == 0 and figures["lost"] == 0 and figures["undelivered"] == 0, out
    # Four engineers writing back to back for four seconds go well past five events each.
    assert figures["rest"]["n"] > 4 * 5, out
    assert figures["starts"]["n"] >= figures["rest"]["n"] // 5 - 4, out
