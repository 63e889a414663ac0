"""Many tenants on one instance: memory and open descriptors as tenants accumulate.

Starts Branchline on the embedded backend (a fresh data folder, as load_team.py does) and
registers T tenants (default 1,000, without the starter library). Each is touched once
through sync as a device's first sync would: the owner reads `_changes` of its trees,
sessions and clients databases and writes one client context into `clients` with a PUT.
Every 100 tenants it prints the server's RSS and open descriptors (from /proc), so a leak
shows as figures that grow with the tenants instead of levelling off. Then the team load
of load_team.py (imported, same figures) runs on 10 of those tenants, the engineers split
between them.

    .venv/bin/python benchmarks/many_tenants.py [--tenants 1000] [--loaded 10] [--engineers 200]

Targets (issue 22): RSS below 400 MB, descriptors bounded (not growing with tenants).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import load_team as lt

RSS_TARGET_MB = 400


def touch(http: httpx.Client, owner: dict[str, Any]) -> None:
    """A device's first contact with a tenant's databases: each feed read once, one write."""
    headers = lt.bearer(owner["token"])
    databases: dict[str, str] = owner["me"]["sync"]["databases"]
    for name in ("trees", "sessions", "clients"):
        lt.expect(
            http.get(f"{databases[name]}/_changes", params={"since": "0"}, headers=headers),
            200,
            f"_changes of {name}",
        )
    doc_id = f"client:bench-{secrets.token_hex(4)}"
    lt.expect(
        http.put(
            f"{databases['clients']}/{doc_id}",
            headers=headers,
            json={"type": "client", "schema_version": 1, "name": "Bench Client Ltd"},
        ),
        201,
        "writing a client context over sync",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--loaded", type=int, default=10, help="tenants that then get the team load")
    parser.add_argument("--engineers", type=int, default=200, help="engineers in all, split between those")
    parser.add_argument("--threads", type=int, default=4, help="concurrent registrations")
    parser.add_argument("--every", type=int, default=100, help="print the figures every this many tenants")
    lt.add_load_arguments(parser)
    args = parser.parse_args(argv)
    lt.check_node()
    opts = lt.load_options(parser, args)
    loaded = min(args.loaded, args.tenants)

    with tempfile.TemporaryDirectory(prefix="bl-tenants-") as tmp, lt.cluster("embedded", Path(tmp)) as cl:
        srv = cl.instances[0]
        cpu0 = srv.cpu_seconds()
        base = {"rss_mb": srv.rss_mb(), "fds": srv.fds()}
        print(f"fresh server         RSS {base['rss_mb']:.0f} MB, {base['fds']} open descriptors", flush=True)
        owners: list[dict[str, Any]] = []
        marks: list[dict[str, float]] = []
        t0 = time.monotonic()
        with httpx.Client(base_url=srv.url, timeout=120) as http, ThreadPoolExecutor(args.threads) as pool:

            def one(i: int) -> dict[str, Any]:
                owner = lt.register_tenant(http, f"Tenant {i} {secrets.token_hex(3)}")
                touch(http, owner)
                return owner

            done = 0
            while done < args.tenants:
                batch = min(args.every, args.tenants - done)
                owners.extend(pool.map(one, range(done, done + batch)))
                done += batch
                mark = {
                    "tenants": done,
                    "rss_mb": srv.rss_mb(),
                    "fds": srv.fds(),
                    "elapsed_s": time.monotonic() - t0,
                    "load1": os.getloadavg()[0],
                }
                marks.append(mark)
                print(
                    f"{done:5d} tenants        RSS {mark['rss_mb']:5.0f} MB, "
                    f"{mark['fds']:5d} open descriptors "
                    f"({mark['elapsed_s']:.0f} s, load {mark['load1']:.2f})",
                    flush=True,
                )
        cpu_tenants = srv.cpu_seconds() - cpu0
        print(
            f"registering and touching {args.tenants} tenants: {time.monotonic() - t0:.0f} s, "
            f"server CPU {cpu_tenants:.0f} s",
            flush=True,
        )

        # The team load on `loaded` of the tenants just made, spread over the whole range.
        step = max(1, len(owners) // loaded)
        chosen = owners[::step][:loaded]
        per = [args.engineers // loaded + (i < args.engineers % loaded) for i in range(loaded)]
        t1 = time.monotonic()
        specs: list[dict[str, Any]] = []
        for owner, count in zip(chosen, per, strict=True):
            specs.extend(lt.setup_team(cl.instances, count, first_index=len(specs), owner=owner))
        print(
            f"\n== team load: {args.engineers} engineers over {loaded} of the {args.tenants} tenants "
            f"(set-up {time.monotonic() - t1:.1f} s)",
            flush=True,
        )
        figures = lt.run_load(cl, specs, opts, log=lambda s: print(s, flush=True))
        lt.print_figures(figures)

    first, last = marks[0], marks[-1]
    per_tenant = (
        (last["fds"] - first["fds"]) / (last["tenants"] - first["tenants"])
        if last["tenants"] > first["tenants"]
        else 0.0
    )
    peak_rss = max([m["rss_mb"] for m in marks] + [figures["peak_rss_mb"]])
    print()
    print(
        f"RSS                  {base['rss_mb']:.0f} MB fresh, "
        f"{last['rss_mb']:.0f} MB after {last['tenants']} tenants, "
        f"peak {peak_rss:.0f} MB "
        f"(target < {RSS_TARGET_MB}: {'met' if peak_rss < RSS_TARGET_MB else 'NOT met'})"
    )
    print(
        f"open descriptors     {base['fds']} fresh, {last['fds']:.0f} after {last['tenants']} tenants, "
        f"{per_tenant:.2f} more per tenant from {first['tenants']} to {last['tenants']} "
        f"({'bounded' if per_tenant < 0.05 else 'growing with tenants'})"
    )
    print(json.dumps({"tenants": args.tenants, "marks": marks, "fresh": base, "team": figures}))
    return 0 if figures["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
