"""p95 latency of library search over 1,000 trees, end to end through a real server.

Run: .venv/bin/python benchmarks/library_search.py [--trees 1000] [--queries 400]
Target (issue 5): p95 < 20 ms. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.conftest import STRONG_PASSWORD, ServerProcess  # noqa: E402

WORDS = [
    "printer",
    "spooler",
    "vpn",
    "tunnel",
    "citrix",
    "vda",
    "dns",
    "mailbox",
    "outlook",
    "bitlocker",
    "veeam",
    "backup",
    "profile",
    "fslogix",
    "gateway",
    "logon",
    "replication",
    "share",
    "update",
    "disk",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trees", type=int, default=1000)
    ap.add_argument("--queries", type=int, default=400)
    args = ap.parse_args()
    seeds = [json.loads(p.read_text()) for p in sorted((ROOT / "seeds/trees").glob("*.json"))]
    rnd = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(Path(tmp) / "data").start()
        try:
            http = httpx.Client(base_url=srv.url, timeout=60)
            tok = http.post(
                "/api/v1/auth/register",
                json={
                    "tenant_name": "Bench",
                    "email": "bench@example.com",
                    "password": STRONG_PASSWORD,
                    "starter_library": False,
                },
            ).json()
            h = {"Authorization": f"Bearer {tok['access_token']}"}
            t0 = time.perf_counter()
            for i in range(args.trees):
                tree = copy.deepcopy(seeds[i % len(seeds)])
                tree["_id"] = f"{tree['_id']}-{i}"
                tree["title"] = f"{tree['title']} #{i} {rnd.choice(WORDS)}"
                tree["tags"] = tree["tags"] + [rnd.choice(WORDS)]
                r = http.post("/api/v1/trees/import", headers=h, json=tree)
                assert r.status_code == 201, r.text
            load_s = time.perf_counter() - t0
            http.get("/api/v1/trees", headers=h, params={"q": "warmup"})  # builds the index once
            queries = [" ".join(rnd.sample(WORDS, rnd.choice((1, 1, 2)))) for _ in range(args.queries)]
            times = []
            for q in queries:
                t = time.perf_counter()
                r = http.get("/api/v1/trees", headers=h, params={"q": q, "limit": 20})
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200
            times.sort()
            p50 = statistics.median(times)
            p95 = times[int(len(times) * 0.95) - 1]
            print(f"trees: {args.trees} (imported in {load_s:.1f} s), queries: {len(times)}")
            print(
                f"search latency end to end over HTTP: p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
                f"max {times[-1]:.2f} ms"
            )
            print(f"target p95 < 20 ms: {'met' if p95 < 20 else 'NOT met'}")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
