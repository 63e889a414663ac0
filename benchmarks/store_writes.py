"""The embedded store's write path alone: N threads each writing single documents to one
database, as FastAPI's thread pool does when many engineers post events at once.

Prints writes per second, latency p50/p99, the writer's commit groups, this process's CPU
time and the machine's load average (the machine is shared: compare figures taken side by
side). With `--readers R`, R more threads read the same database meanwhile (a document and
the database's info, as a replicating device does) and their latency is printed too. With
`--against REV` the same measurement also runs on the store code of git revision REV
(exported to a temporary folder), so before and after come from one run:

    .venv/bin/python benchmarks/store_writes.py [--threads 16] [--readers 4] [--seconds 5] [--against REV]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, len(ordered) * p // 100)] * 1000 if ordered else 0.0


def measure(threads: int, readers: int, seconds: float) -> dict[str, float]:
    """Run the load on the `sync` package first on sys.path; answers the figures."""
    from sync.embedded import EmbeddedStore

    folder = tempfile.mkdtemp(prefix="store-writes-")
    store = EmbeddedStore(folder)
    db = store.create_db("t_bench_sessions")
    db.put({"_id": "session:seed", "type": "session", "title": "Citrix VDA Not Registering"})
    latencies: list[list[float]] = [[] for _ in range(threads)]
    read_latencies: list[list[float]] = [[] for _ in range(readers)]
    start_gate = threading.Event()
    stop_at = [0.0]

    def writer(w: int) -> None:
        mine = latencies[w]
        start_gate.wait()
        i = 0
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at[0]:
                return
            db.put({"_id": f"w{w}:ev:{i:08d}", "type": "note", "text": "Checked the VDA.", "i": i})
            mine.append(time.perf_counter() - t0)
            i += 1

    def reader(r: int) -> None:
        mine = read_latencies[r]
        start_gate.wait()
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at[0]:
                return
            db.get("session:seed")
            db.info()
            mine.append(time.perf_counter() - t0)

    workers = [threading.Thread(target=writer, args=(w,)) for w in range(threads)]
    workers += [threading.Thread(target=reader, args=(r,)) for r in range(readers)]
    for t in workers:
        t.start()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    start_gate.set()
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    everything = [x for per in latencies for x in per]
    n = len(everything)
    handles = getattr(store, "handles", None)
    writes = handles.get_open("t_bench_sessions").writes if handles is not None else None
    assert db.info()["doc_count"] == n + 1, "a write was acknowledged but is not in the store"
    reads = [x for per in read_latencies for x in per]
    store.close()
    return {
        "writes": n,
        "per_second": n / elapsed,
        "p50_ms": _pct(everything, 50),
        "p99_ms": _pct(everything, 99),
        "cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
        "groups": writes.groups if writes is not None else n,
        "largest_group": writes.largest if writes is not None else 1,
        "reads": len(reads),
        "read_p50_ms": _pct(reads, 50),
        "read_p99_ms": _pct(reads, 99),
    }


def _run_elsewhere(code_dir: Path, threads: int, readers: int, seconds: float) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(code_dir)}
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--threads",
            str(threads),
            "--readers",
            str(readers),
            "--seconds",
            str(seconds),
            "--json",
        ],
        env=env,
        cwd=code_dir,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def _print(label: str, r: dict[str, float]) -> None:
    print(
        f"{label:>12}: {r['per_second']:8.0f} writes/s  p50 {r['p50_ms']:6.1f} ms  "
        f"p99 {r['p99_ms']:6.1f} ms  {int(r['writes'])} writes in {int(r['groups'])} commits "
        f"(largest {int(r['largest_group'])})  cpu {r['cpu_s']:.1f} s  "
        f"load {os.getloadavg()[0]:.2f}"
    )
    if r["reads"]:
        print(
            f"{'':>12}  {r['reads']:8.0f} reads meanwhile  p50 {r['read_p50_ms']:6.1f} ms  "
            f"p99 {r['read_p99_ms']:6.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--readers", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--against", help="git revision whose store to measure too (before)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.threads, args.readers, args.seconds)))
        return
    print(
        f"{args.threads} threads, {args.seconds:g} s each run, load average before {os.getloadavg()[0]:.2f}"
    )
    if args.against:
        with tempfile.TemporaryDirectory(prefix="store-before-") as tmp:
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", args.against, "sync"], check=True, capture_output=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            _print(args.against, _run_elsewhere(Path(tmp), args.threads, args.readers, args.seconds))
    _print("this tree", _run_elsewhere(ROOT, args.threads, args.readers, args.seconds))


if __name__ == "__main__":
    main()
