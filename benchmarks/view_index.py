"""View index benchmark: how long a map view takes to build, and to catch up after writes.

Starts Branchline's sync app over EmbeddedStore (tests/sync/app_for_tests.py, as the sync
tests do), writes N documents, then times, against one view with a `_count` reduce:

- build: the first query, which maps every document in the QuickJS sandbox;
- catch-up: a query after 100 more writes (the index maps only what changed);
- steady: a query with nothing new.

Prints each time with the server's CPU seconds for it (from /proc: stable on a shared
machine, where wall times swing) and the load average.

    .venv/bin/python benchmarks/view_index.py [--docs 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync_replication import cpu_seconds, free_port, wait_http  # noqa: E402 - found through sys.path above

AUTH = ("admin-a", "s3cret-pass")
MAP = "function (doc) { if (doc.type === 'event') { emit([doc.session, doc.ts], 1); } }"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        env = {**os.environ, "BRANCHLINE_TEST_DATA_DIR": data_dir}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(ROOT / "tests" / "sync"),
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
        )
        try:
            base = f"http://127.0.0.1:{port}/sync/tenanta1/bench"
            wait_http(f"http://127.0.0.1:{port}/sync/tenanta1/", AUTH)
            with httpx.Client(auth=AUTH, timeout=600) as c:
                assert c.put(base).status_code == 201
                for start in range(0, args.docs, 1000):
                    docs = [
                        {"_id": f"ev-{i:07d}", "type": "event", "session": f"s{i % 50}", "ts": i}
                        for i in range(start, min(start + 1000, args.docs))
                    ]
                    assert c.post(f"{base}/_bulk_docs", json={"docs": docs}).status_code == 201
                assert (
                    c.put(
                        f"{base}/_design/bench",
                        json={"views": {"by_session": {"map": MAP, "reduce": "_count"}}},
                    ).status_code
                    == 201
                )
                results = {}

                def timed(name: str) -> None:
                    cpu0, t0 = cpu_seconds(proc.pid), time.perf_counter()
                    r = c.get(f"{base}/_design/bench/_view/by_session", params={"group_level": "1"})
                    wall, cpu = time.perf_counter() - t0, cpu_seconds(proc.pid) - cpu0
                    assert r.status_code == 200, r.text
                    results[name] = {
                        "wall_s": round(wall, 3),
                        "server_cpu_s": round(cpu, 2),
                        "groups": len(r.json()["rows"]),
                    }
                    print(
                        f"{name:10} {wall:7.3f} s  server CPU {cpu:6.2f} s  (load {os.getloadavg()[0]:.2f})"
                    )

                timed("build")
                docs = [
                    {"_id": f"new-{i:04d}", "type": "event", "session": "s-new", "ts": i} for i in range(100)
                ]
                assert c.post(f"{base}/_bulk_docs", json={"docs": docs}).status_code == 201
                timed("catch-up")
                timed("steady")
                print(json.dumps({"docs": args.docs, **results, "loadavg": os.getloadavg()}))
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
