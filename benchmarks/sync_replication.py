"""Replication benchmark: a real PouchDB client pushes, then pulls, N ~1 KB documents.

Against (a) Branchline's sync router over EmbeddedStore under uvicorn (a subprocess
serving tests/sync/app_for_tests.py, the same app the sync tests use) and (b)
`pouchdb-server --in-memory`, in the same run. Prints both times, the ratio (target:
at most 0.5), the peak RSS of our server process, and each server's CPU seconds per run
(user + system, from /proc): on a shared machine wall times swing with whatever else
runs, while a server's CPU per replication barely moves, so compare changes by CPU.

Each round also times the same client replicating memory-to-memory (no server, no
network): the client's own work, which both servers' times include. The time each server
adds above that floor is the part a server can change, and is printed too.

    npm ci --prefix tests/node      # once
    .venv/bin/python benchmarks/sync_replication.py [--docs 10000] [--rounds 3]

With several rounds each server gets a fresh database per round, the rounds alternate
which server goes first, and the best round of each is compared (the machine may be
shared; the best round is the least disturbed one).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from serve import cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "tests" / "node"
APP_DIR = ROOT / "tests" / "sync"
AUTH = ("admin-a", "s3cret-pass")
TENANT = "tenanta1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, auth=None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, auth=auth, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"server at {url} did not come up")


def start_ours(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "BRANCHLINE_TEST_DATA_DIR": str(data_dir), "BRANCHLINE_TEST_POLICY": "role"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(APP_DIR),
            "app_for_tests:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/sync/{TENANT}"
    wait_http(base + "/", auth=AUTH)
    return proc, base


def start_pouchdb_server(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    binary = NODE_DIR / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"
    proc = subprocess.Popen(
        ["node", str(binary), "--in-memory", "-p", str(port), "-n"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/")
    return proc, base


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_client(url: str | None, auth, docs: int) -> dict:
    args = {"url": url, "auth": {"basic": list(auth)} if auth else None, "n": docs}
    out = subprocess.run(
        ["node", str(NODE_DIR / "bench.js"), json.dumps(args)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if out.returncode != 0:
        raise SystemExit(f"bench.js failed against {url}:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if not (NODE_DIR / "node_modules" / "pouchdb").exists():
        raise SystemExit("run `npm ci --prefix tests/node` first")

    with tempfile.TemporaryDirectory(prefix="bl-bench-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "ours").mkdir()
        (tmp_path / "pouchdb-server").mkdir()
        ours, ours_url = start_ours(tmp_path / "ours")
        ref, ref_url = start_pouchdb_server(tmp_path / "pouchdb-server")
        results: dict[str, list[dict]] = {"branchline": [], "pouchdb-server": []}
        floors: list[dict] = []
        try:
            for round_no in range(args.rounds):
                # The same client replicating memory-to-memory: what the PouchDB client
                # itself costs, included in both servers' times.
                floor = run_client(None, None, args.docs)
                floors.append(floor)
                print(
                    f"round {round_no + 1} {'PouchDB floor':15s} push {floor['push_ms'] / 1000:6.2f} s  "
                    f"pull {floor['pull_ms'] / 1000:6.2f} s  total {floor['total_ms'] / 1000:6.2f} s  "
                    "(memory to memory, no server)",
                    flush=True,
                )
                name = "bench-" + uuid.uuid4().hex[:8]
                order = [("branchline", ours_url, AUTH), ("pouchdb-server", ref_url, None)]
                if round_no % 2:
                    order.reverse()
                for label, base, auth in order:
                    if label == "branchline":
                        httpx.put(f"{base}/{name}", auth=auth).raise_for_status()
                    pid = (ours if label == "branchline" else ref).pid
                    cpu0 = cpu_seconds(pid)
                    r = run_client(f"{base}/{name}", auth, args.docs)
                    r["server_cpu_s"] = cpu_seconds(pid) - cpu0
                    results[label].append(r)
                    print(
                        f"round {round_no + 1} {label:15s} push {r['push_ms'] / 1000:6.2f} s  "
                        f"pull {r['pull_ms'] / 1000:6.2f} s  total {r['total_ms'] / 1000:6.2f} s  "
                        f"server CPU {r['server_cpu_s']:5.2f} s  (load {os.getloadavg()[0]:.2f})",
                        flush=True,
                    )
            rss = peak_rss_mb(ours.pid)
        finally:
            for proc in (ours, ref):
                proc.terminate()
                proc.wait(10)

    paired = sorted(
        o["total_ms"] / r["total_ms"]
        for o, r in zip(results["branchline"], results["pouchdb-server"], strict=True)
    )
    best = {k: min(v, key=lambda r: r["total_ms"]) for k, v in results.items()}
    ours_s = best["branchline"]["total_ms"] / 1000
    ref_s = best["pouchdb-server"]["total_ms"] / 1000
    ratio = ours_s / ref_s
    print()
    print(f"documents            {args.docs} (~1 KB each), push then pull, PouchDB 9 memory adapter")
    print(
        f"branchline           {ours_s:6.2f} s  (push {best['branchline']['push_ms'] / 1000:.2f}, "
        f"pull {best['branchline']['pull_ms'] / 1000:.2f})"
    )
    print(
        f"pouchdb-server       {ref_s:6.2f} s  (push {best['pouchdb-server']['push_ms'] / 1000:.2f}, "
        f"pull {best['pouchdb-server']['pull_ms'] / 1000:.2f})"
    )
    print(
        f"ratio                {ratio:6.2f}  best/best "
        f"(target <= 0.50: {'met' if ratio <= 0.5 else 'NOT met'})"
    )
    print(
        f"ratio per round      {', '.join(f'{x:.2f}' for x in paired)}  "
        f"(median {paired[len(paired) // 2]:.2f})"
    )
    floor_s = min(f["total_ms"] for f in floors) / 1000
    above = (ours_s - floor_s) / (ref_s - floor_s) if ref_s > floor_s else float("nan")
    print(f"PouchDB floor        {floor_s:6.2f} s  (the same client memory to memory; both times include it)")
    print(
        f"above the floor      branchline {ours_s - floor_s:+.2f} s, pouchdb-server "
        f"{ref_s - floor_s:+.2f} s: ratio {above:.2f}"
    )
    print(f"branchline peak RSS  {rss:6.1f} MB")
    cpu = {k: sorted(r["server_cpu_s"] for r in v) for k, v in results.items()}
    med = {k: v[len(v) // 2] for k, v in cpu.items()}
    print(
        f"server CPU per run   branchline {med['branchline']:.2f} s, pouchdb-server "
        f"{med['pouchdb-server']:.2f} s (median of rounds; the stable figure on a busy machine)"
    )
    print(f"load average         {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        json.dumps(
            {
                "docs": args.docs,
                "branchline_s": round(ours_s, 3),
                "pouchdb_server_s": round(ref_s, 3),
                "ratio": round(ratio, 3),
                "round_ratios": [round(x, 3) for x in paired],
                "floor_s": round(floor_s, 3),
                "above_floor_ratio": round(above, 3),
                "branchline_peak_rss_mb": round(rss, 1),
                "branchline_cpu_s": [round(x, 3) for x in cpu["branchline"]],
                "pouchdb_server_cpu_s": [round(x, 3) for x in cpu["pouchdb-server"]],
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
