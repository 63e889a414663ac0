"""Analytics rollups at scale, through a real server: full rebuild, per-event incremental cost, API p95.

Sessions are written the way devices write them (sync `_bulk_docs`, one engineer per batch)
on T published trees; then:

- full rebuild: the first analytics request after loading follows the whole sessions feed
  (wall time, and the server process's CPU from /proc);
- incremental: K more events across running sessions, then one request: the server CPU of
  that request minus an idle request's, divided by K;
- API: p50/p95 of tree analytics (with and without `version`) and of the overview, over HTTP.

    .venv/bin/python benchmarks/analytics.py [--sessions 5000] [--trees 50] [--engineers 5]
    .venv/bin/python benchmarks/analytics.py --sessions 100000 --no-in-process   # issue 16's size

Issue 16's targets: 100,000 sessions / 2,000,000 events / 50 trees: rebuild < 60 s on 2 cores,
incremental < 1 ms CPU per event, analytics p95 < 100 ms. The machine is shared: the load
average and this script's own CPU are printed beside every figure. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from serve import cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.sessions.ids import ulid  # noqa: E402
from tests.conftest import ServerProcess, Tenant  # noqa: E402
from tests.trees.factories import valid_tree  # noqa: E402

_TICKS = os.sysconf("SC_CLK_TCK")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def walk(
    tree: dict[str, Any], rnd: random.Random, sid: str, user: str, t0: int, notes: float = 0.0
) -> list[dict[str, Any]]:
    """A plausible session's events: answers to a resolution, with backs, custom steps, abandons,
    and about `notes` notes per step (engineers write what they saw at each step)."""
    nodes, node, ts, events = tree["nodes"], tree["start"], t0, []

    def ev(kind: str, **fields: Any) -> None:
        nonlocal ts
        ts += rnd.randint(2_000, 120_000)
        events.append(
            {
                "_id": f"session:{sid}:ev:{ulid()}",
                "type": kind,
                "schema_version": 1,
                "session_id": sid,
                "ts": ts,
                "device_id": "bench",
                "user_id": user,
                **fields,
            }
        )

    fate = rnd.random()
    for _ in range(40):
        spec = nodes[node]
        if spec["type"] == "resolution":
            ev("completed")
            return events
        if fate < 0.1 and rnd.random() < 0.3:
            ev("abandoned")
            return events
        if rnd.random() < 0.1:
            ev("custom_step", node_id=node, text="Checked the logs", answer="done")
        for _ in range(int(rnd.uniform(0, 2 * notes) + 0.5)):
            ev(
                "note",
                node_id=node,
                note_id=ulid(),
                text="Event log shows error 1722; restarted the service.",
            )
        if spec["type"] == "question":
            answer = rnd.choice(["yes", "no"])
        elif spec["type"] == "action":
            answer = rnd.choice(["done", "failed"])
        elif spec["type"] == "choice":
            answer = rnd.choice(spec["options"])["id"]
        else:
            answer = "submitted"
        ev("answered", node_id=node, answer=answer, **({"value": "vda-07"} if answer == "submitted" else {}))
        nxt = (
            spec["next"]
            if spec["type"] != "choice"
            else next(o["next"] for o in spec["options"] if o["id"] == answer)
        )
        prev, node = node, (nxt[answer] if isinstance(nxt, dict) else nxt)
        if rnd.random() < 0.08:
            ev("back")
            node = prev
        if fate > 0.95 and rnd.random() < 0.5:
            return events  # still in progress
    return events


def timed(
    http: httpx.Client, url: str, headers: dict[str, str], params: dict[str, Any] | None = None
) -> float:
    t = time.perf_counter()
    r = http.get(url, headers=headers, params=params)
    assert r.status_code == 200, r.text
    return (time.perf_counter() - t) * 1000


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * q + 0.999999) - 1)]


def in_process_rebuild(docs: list[dict[str, Any]], tree: dict[str, Any]) -> None:
    """The rollups alone (no store, no other index part): the feed handler over every document, in
    batches of 500 as `DerivedIndex` gives them, into a fresh SQLite file."""
    from api.insights.service import SCHEMA, SessionsFollower

    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "index.sqlite", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript(SCHEMA)
        follower = SessionsFollower(lambda _tree_id, _version: tree)  # every bench tree has the same nodes
        cpu, wall = time.process_time(), time.perf_counter()
        for start in range(0, len(docs), 500):
            conn.execute("BEGIN")
            for doc in docs[start : start + 500]:
                follower(conn, {"id": doc["_id"], "doc": doc})
            follower.end_batch(conn)
            conn.execute("COMMIT")
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        conn.close()
    print(
        f"rollups alone, in process: {len(docs)} documents in {wall:.2f} s wall, {cpu:.2f} s CPU "
        f"({cpu / len(docs) * 1000:.3f} ms per document; load average {load()})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=5000)
    ap.add_argument("--trees", type=int, default=50)
    ap.add_argument("--engineers", type=int, default=5)
    ap.add_argument(
        "--notes-per-step",
        type=float,
        default=5,
        help="notes engineers write per step (5 gives about 20 events per session: issue 16's "
        "100,000 sessions then hold 2,000,000 events)",
    )
    ap.add_argument("--no-in-process", action="store_true", help="skip the rollups-alone rebuild")
    ap.add_argument("--incremental", type=int, default=2000, help="events written after the rebuild")
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    rnd = random.Random(16)
    cpu0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(Path(tmp) / "data").start()
        try:
            http = httpx.Client(base_url=srv.url, timeout=600)
            owner = Tenant(http)
            trees = []
            for i in range(args.trees):
                tree = valid_tree()
                tree["_id"] = f"tree:bench-{i}"
                tree["title"] = f"Bench tree {i}"
                assert http.post("/api/v1/trees/import", headers=owner.headers, json=tree).status_code == 201
                assert http.post(
                    f"/api/v1/trees/{tree['_id']}/publish", headers=owner.headers, json={}
                ).status_code in (200, 201)
                trees.append(tree)
            engineers = [owner.add_user("engineer") for _ in range(args.engineers)]
            bulk = f"/sync/{owner.id}/sessions/_bulk_docs"
            t_load, n_events, running, written = time.perf_counter(), 0, [], []
            now = int(time.time() * 1000)
            for batch_start in range(0, args.sessions, 200):
                who = engineers[(batch_start // 200) % len(engineers)]
                docs: list[dict[str, Any]] = []
                for _ in range(min(200, args.sessions - batch_start)):
                    tree, sid = rnd.choice(trees), ulid()
                    t0 = now - rnd.randint(0, 60) * 86_400_000
                    docs.append(
                        {
                            "_id": f"session:{sid}",
                            "type": "session",
                            "schema_version": 1,
                            "tree_id": tree["_id"],
                            "tree_version": 1,
                            "owner_id": who.id,
                            "client_id": None,
                            "status": "in_progress",
                            "created_at": t0,
                        }
                    )
                    events = walk(tree, rnd, sid, who.id, t0, args.notes_per_step)
                    n_events += len(events)
                    docs.extend(events)
                    if events and events[-1]["type"] not in ("completed", "abandoned"):
                        running.append((who, sid, events[-1]["ts"]))
                r = http.post(bulk, headers=who.headers, json={"docs": docs})
                assert r.status_code == 201, r.text[:500]
                if not args.no_in_process:
                    written.extend(docs)
            load_s = time.perf_counter() - t_load
            print(
                f"loaded {args.sessions} sessions, {n_events} events ({n_events / args.sessions:.1f} per "
                f"session), {args.trees} trees in {load_s:.1f} s "
                f"(load average {load()})"
            )

            if not args.no_in_process:
                in_process_rebuild(written, trees[0])
            written.clear()
            pid = srv.proc.pid
            url = f"/api/v1/analytics/trees/{trees[0]['_id']}"
            c, t = cpu_seconds(pid), time.perf_counter()
            timed(http, url, owner.headers)
            print(
                f"full rebuild (first request): {time.perf_counter() - t:.2f} s wall, "
                f"{cpu_seconds(pid) - c:.2f} s server CPU (load average {load()})"
            )

            c = cpu_seconds(pid)
            timed(http, url, owner.headers)
            idle_cpu = cpu_seconds(pid) - c
            added = []
            by_engineer: dict[str, list[dict[str, Any]]] = {}
            for i in range(args.incremental):
                who, sid, ts = running[i % len(running)] if running else (engineers[0], ulid(), now)
                doc = {
                    "_id": f"session:{sid}:ev:{ulid()}",
                    "type": "note",
                    "schema_version": 1,
                    "session_id": sid,
                    "ts": ts + i,
                    "device_id": "bench",
                    "user_id": who.id,
                    "node_id": "scope",
                    "note_id": f"n{i}",
                    "text": "x",
                }
                if i % 2 == 0:  # half of them change figures: custom steps refold their session
                    doc = {
                        **{
                            k: doc[k]
                            for k in (
                                "_id",
                                "schema_version",
                                "session_id",
                                "ts",
                                "device_id",
                                "user_id",
                                "node_id",
                            )
                        },
                        "type": "custom_step",
                        "text": "Tried again",
                        "answer": "failed",
                    }
                by_engineer.setdefault(who.id, []).append(doc)
                added.append(doc)
            tokens = {e.id: e.headers for e in engineers}
            for uid, docs in by_engineer.items():
                assert http.post(bulk, headers=tokens[uid], json={"docs": docs}).status_code == 201
            c = cpu_seconds(pid)
            timed(http, url, owner.headers)
            per_event = (cpu_seconds(pid) - c - idle_cpu) / max(1, len(added)) * 1000
            print(
                f"incremental: {len(added)} events over {len(running)} running sessions, "
                f"{per_event:.3f} ms server CPU per event (CPU clock {1000 / _TICKS:.0f} ms; "
                f"load average {load()})"
            )

            tree_ms, version_ms, overview_ms = [], [], []
            for i in range(args.requests):
                tid = trees[i % len(trees)]["_id"]
                tree_ms.append(timed(http, f"/api/v1/analytics/trees/{tid}", owner.headers))
                version_ms.append(
                    timed(http, f"/api/v1/analytics/trees/{tid}", owner.headers, {"version": 1})
                )
                if i % 4 == 0:
                    overview_ms.append(timed(http, "/api/v1/analytics/overview", owner.headers))
            for name, values in (
                ("tree analytics", tree_ms),
                ("tree analytics ?version=1", version_ms),
                ("overview (admin)", overview_ms),
            ):
                print(
                    f"{name}: p50 {statistics.median(values):.1f} ms, p95 {pct(values, 0.95):.1f} ms "
                    f"over {len(values)} requests"
                )
            print(f"load average {load()}; this script's own CPU {time.process_time() - cpu0:.1f} s")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
