"""Closed-loop REST writes: K clients each post note events to their own session as fast as
the server answers (`POST /api/v1/sessions/{id}/events`), for a fixed time.

Prints events/s, answer latency p50/p99, errors, the server's CPU and the load generator's own
CPU, and the machine's load average before and after (the machine is shared: compare runs
made in the same conditions).

    .venv/bin/python benchmarks/post_event.py [--clients 8] [--seconds 20] [--warmup-events 20]
        [--server-processes 1]

Every session starts with `--warmup-events` notes, so the fold has some history to go over;
the figure printed last says how many events the sessions hold at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from serve import bench_env, cpu_seconds, serve_command  # noqa: E402

from tests.conftest import Tenant, free_port, wait_until  # noqa: E402
from tests.trees.factories import valid_tree  # noqa: E402


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def prepare(url: str, clients: int, warmup: int) -> tuple[dict[str, str], list[str]]:
    """A tenant with a published tree and one started session per client."""
    with httpx.Client(base_url=url, timeout=60) as http:
        tenant = Tenant(http)
        r = http.post("/api/v1/trees", headers=tenant.headers, json=valid_tree())
        tree_id = r.json()["id"]
        http.post(f"/api/v1/trees/{tree_id}/publish", headers=tenant.headers, json={}).raise_for_status()
        sids = []
        for _ in range(clients):
            r = http.post("/api/v1/sessions", headers=tenant.headers, json={"tree_id": tree_id})
            r.raise_for_status()
            sid = r.json()["session_id"]
            http.post(
                f"/api/v1/sessions/{sid}/events",
                headers=tenant.headers,
                json={"type": "answered", "node_id": "scope", "answer": "yes"},
            ).raise_for_status()
            for n in range(warmup):
                http.post(
                    f"/api/v1/sessions/{sid}/events",
                    headers=tenant.headers,
                    json={"type": "note", "node_id": "vda", "text": f"warm-up {n}"},
                ).raise_for_status()
            sids.append(sid)
        return tenant.headers, sids


def run(url: str, headers: dict[str, str], sids: list[str], seconds: float) -> tuple[list[float], int]:
    latencies: list[list[float]] = [[] for _ in sids]
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(index: int, sid: str) -> None:
        with httpx.Client(base_url=url, timeout=60, headers=headers) as http:
            n = 0
            while time.monotonic() < stop_at:
                n += 1
                began = time.perf_counter()
                r = http.post(
                    f"/api/v1/sessions/{sid}/events",
                    json={"type": "note", "node_id": "vda", "text": f"note {n}"},
                )
                spent = time.perf_counter() - began
                if r.status_code == 201:
                    latencies[index].append(spent)
                else:
                    with lock:
                        errors[0] += 1

    threads = [threading.Thread(target=client, args=(i, sid)) for i, sid in enumerate(sids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [x for per in latencies for x in per], errors[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup-events", type=int, default=20)
    parser.add_argument(
        "--server-processes", type=int, default=1, help="server processes (BRANCHLINE_PROCESSES)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bl-post-event-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = bench_env(tmp, BRANCHLINE_PROCESSES=str(args.server_processes))
        proc = subprocess.Popen(
            serve_command(port, workers=args.server_processes),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: httpx.get(url + "/healthz", timeout=1).status_code == 200, timeout=60)
            headers, sids = prepare(url, args.clients, args.warmup_events)
            load_before = os.getloadavg()
            server_before, own_before = cpu_seconds(proc.pid), own_cpu_seconds()
            began = time.monotonic()
            latencies, errors = run(url, headers, sids, args.seconds)
            wall = time.monotonic() - began
            server_cpu, own_cpu = cpu_seconds(proc.pid) - server_before, own_cpu_seconds() - own_before
            load_after = os.getloadavg()
        finally:
            proc.terminate()
            proc.wait(10)
    if not latencies:
        raise SystemExit(f"no event was accepted ({errors} errors)")
    per_session = args.warmup_events + 1 + len(latencies) // len(sids)
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, after {load_after[0]:.2f} "
        f"{load_after[1]:.2f} (1 and 5 min; {os.cpu_count()} cores)"
    )
    print(
        f"{args.clients} clients, closed loop, {wall:.1f} s: {len(latencies)} events, {errors} errors, "
        f"{len(latencies) / wall:.0f} events/s"
    )
    print(
        f"latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
    )
    print(
        f"server CPU {server_cpu:.1f} s ({server_cpu / wall:.0%} of one core, "
        f"{server_cpu / len(latencies) * 1000:.2f} ms per event: the figure least moved by other load), "
        f"load generator CPU {own_cpu:.1f} s ({own_cpu / wall:.0%}); sessions end with about "
        f"{per_session} events each"
    )


if __name__ == "__main__":
    main()
