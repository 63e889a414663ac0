"""The cost of one audit append (sign-ins and admin actions pay it), on the embedded store.

Appends N entries to one tenant's log through `service.record`, the call every feature makes,
one after another (as requests of one tenant mostly are), in a fresh data folder; then counts
N failed sign-ins with unknown e-mails into the instance's log (`instance.sign_in_failed`:
a tally write each, an entry at the 1st, 2nd, 4th... of an address), from 50 addresses.
Prints the mean, p50 and p99 of each and the load average beside them (the machine is shared).

    .venv/bin/python benchmarks/audit_append.py [--entries 2000]

Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.audit import instance, service
from api.core.context import open_store
from api.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        secret = "b" * 40
        store = open_store(Settings(data_dir=Path(tmp), secret_key=secret))
        ctx = SimpleNamespace(store=store, secret=secret)
        who = {"user_id": "u1", "email": "someone@example.com", "tenant_id": "benchtenant1"}
        try:
            service.record(ctx, who, "bench.warmed", "bench", "0")  # the database exists from here
            appends = []
            for i in range(args.entries):
                start = time.perf_counter()
                service.record(ctx, who, "bench.appended", "bench", str(i), ip="192.0.2.1", details={"n": i})
                appends.append(time.perf_counter() - start)
            report(f"{args.entries} appends", appends)
            failures = []
            for i in range(args.entries):
                start = time.perf_counter()
                instance.sign_in_failed(ctx, f"guess{i}@example.com", f"198.51.100.{i % 50}")
                failures.append(time.perf_counter() - start)
            report(f"{args.entries} unknown-e-mail sign-ins", failures)
        finally:
            store.close()


def report(what: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    print(
        f"{what}: mean {statistics.fmean(ms):.3f} ms, p50 {ms[len(ms) // 2]:.3f} ms, "
        f"p99 {ms[int(len(ms) * 0.99)]:.3f} ms (load average {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()
