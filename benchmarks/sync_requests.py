"""Server CPU per sync request, by kind: what one replicated note costs the server.

One engineer's live replication of one note costs the server about a dozen requests (the
push: `_revs_diff`, `_bulk_docs`, the checkpoint's GET and PUT; each reading device's pull:
the longpoll `_changes` answer, `_bulk_get`, its checkpoint, the next longpoll). With a whole
team at once (benchmarks/load_team.py) the server's CPU is the limit, so this prints what each
kind costs on its own: K requests of one kind sent back to back by one client on one
keep-alive connection, the server's CPU (from /proc) divided by K, and the answer's median
latency. A REST event (`POST /api/v1/sessions/{id}/events`, into sessions of at most 20
events) is measured beside them. Compare commits back to back: the machine's speed drifts.
The first line is the floor: the same uvicorn and HTTP parser answering `{}` from a bare ASGI
app (benchmarks/bare_asgi.py), so what each request costs above it is Branchline's own work.

    .venv/bin/python benchmarks/sync_requests.py [--requests 400]

The session database holds one shared session of an engineer and a partner; the requests are
the engineer's, as PouchDB sends them (bodies shaped like its own).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from serve import bench_env, cpu_seconds, serve_command  # noqa: E402

from tests.conftest import Tenant, free_port, wait_until  # noqa: E402
from tests.trees.factories import valid_tree  # noqa: E402

REST_EVENTS = 20


def measure(
    pid: int, n: int, send: Callable[[int], httpx.Response], ok: tuple[int, ...]
) -> tuple[float, float]:
    """(server CPU ms per request, median latency ms) of n requests sent one after another."""
    for i in range(min(20, n)):  # warm the path (handles open, caches filled)
        send(-1 - i)
    lat = []
    before = cpu_seconds(pid)
    for i in range(n):
        t0 = time.perf_counter()
        r = send(i)
        lat.append(time.perf_counter() - t0)
        if r.status_code not in ok:
            raise SystemExit(f"unexpected {r.status_code}: {r.text[:300]}")
    spent = cpu_seconds(pid) - before
    return spent / n * 1000, statistics.median(lat) * 1000


def http_floor(n: int) -> tuple[float, float]:
    """(CPU ms per request, median ms) of a bare ASGI app under the same uvicorn and parser."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "bare_asgi:app", "--http", "httptools"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    cmd += ["--lifespan", "off"]
    proc = subprocess.Popen(
        cmd, cwd=Path(__file__).parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            wait_until(lambda: _answers(http), timeout=60)
            return measure(proc.pid, n, lambda i: http.get("/sync/t/db/_local/x"), (200,))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _answers(http: httpx.Client) -> bool:
    try:
        return http.get("/").status_code == 200
    except httpx.TransportError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=400, help="requests of each kind (default 400)")
    parser.add_argument("--only", help="measure only the kinds whose name contains this text")
    opts = parser.parse_args()
    n = opts.requests
    port = free_port()
    data = tempfile.mkdtemp(prefix="branchline-bench-")
    env = bench_env(data, BRANCHLINE_ACCESS_TOKEN_MINUTES="60")
    proc = subprocess.Popen(
        serve_command(port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(url + "/healthz", timeout=1).status_code == 200, timeout=60)
        with httpx.Client(base_url=url, timeout=60) as http:
            owner = Tenant(http)
            tree = http.post("/api/v1/trees", headers=owner.headers, json=valid_tree()).json()
            http.post(
                f"/api/v1/trees/{tree['id']}/publish", headers=owner.headers, json={}
            ).raise_for_status()
            eng = owner.add_user("engineer")
            partner = owner.add_user("engineer")
            sid = http.post(
                "/api/v1/sessions",
                headers=eng.headers,
                json={"tree_id": tree["id"], "shared_with": [partner.id]},
            ).json()["session_id"]
            db = http.get("/api/v1/me", headers=eng.headers).json()["sync"]["databases"]["sessions"]
            h = {**eng.headers, "Content-Type": "application/json"}
            run = f"{os.getpid()}"

            def event_doc(i: int) -> dict:
                return {
                    "_id": f"session:{sid}:ev:{run}{i:+08d}",
                    "_rev": "1-" + f"{abs(i) + 1:032x}",
                    "_revisions": {"start": 1, "ids": [f"{abs(i) + 1:032x}"]},
                    "schema_version": 1,
                    "session_id": sid,
                    "ts": int(time.time() * 1000),
                    "device_id": "bench",
                    "user_id": eng.id,
                    "type": "note",
                    "node_id": "scope",
                    "note_id": f"n-{run}-{i}",
                    "text": "Checked the VDA registration; the service answered.",
                }

            # REST events go to sessions of at most REST_EVENTS events each: the answer folds
            # the whole session, so one ever-growing session would measure its length instead.
            new_session = {"tree_id": tree["id"]}
            rest_sids = [
                http.post("/api/v1/sessions", headers=eng.headers, json=new_session).json()["session_id"]
                for _ in range(n // REST_EVENTS + 2)
            ]

            def rest_sid(i: int) -> str:
                return rest_sids[0] if i < 0 else rest_sids[1 + i // REST_EVENTS]

            seq_now = http.get(db, headers=h).json()["update_seq"]
            kinds: list[tuple[str, Callable[[int], httpx.Response], tuple[int, ...]]] = [
                ("GET db info", lambda i: http.get(db + "/", headers=h), (200,)),
                ("GET _local (missing)", lambda i: http.get(db + "/_local/nothing", headers=h), (404,)),
                (
                    "PUT _local checkpoint",
                    lambda i: http.put(db + f"/_local/cp{run}{i:+d}", headers=h, json={"last_seq": i}),
                    (201,),
                ),
                (
                    "POST _revs_diff (1 new)",
                    lambda i: http.post(db + "/_revs_diff", headers=h, json={f"x{i}": ["1-abc"]}),
                    (200,),
                ),
                (
                    "POST _bulk_docs (1 event)",
                    lambda i: http.post(
                        db + "/_bulk_docs", headers=h, json={"docs": [event_doc(i)], "new_edits": False}
                    ),
                    (201,),
                ),
                (
                    "POST _bulk_get (1 event)",
                    lambda i: http.post(
                        db + "/_bulk_get?revs=true&latest=true",
                        headers=h,
                        json={"docs": [{"id": event_doc(i % 50)["_id"], "rev": event_doc(i % 50)["_rev"]}]},
                    ),
                    (200,),
                ),
                (
                    "GET _changes (1 row)",
                    lambda i: http.get(
                        db + "/_changes",
                        headers=h,
                        params={"style": "all_docs", "since": seq_now, "limit": 1, "seq_interval": 100},
                    ),
                    (200,),
                ),
                (
                    f"POST event (REST, <={REST_EVENTS} ev)",
                    lambda i: http.post(
                        f"/api/v1/sessions/{rest_sid(i)}/events",
                        headers=eng.headers,
                        json={"type": "note", "node_id": "scope", "text": f"note {i}"},
                    ),
                    (201,),
                ),
            ]
            print(f"{'request':30} {'server CPU/request':>20} {'median answer':>15}")
            if not opts.only:
                cpu_ms, p50 = http_floor(n)
                print(f"{'floor: bare ASGI app, {}':30} {cpu_ms:17.2f} ms {p50:12.2f} ms")
            for name, send, ok in kinds:
                if opts.only and opts.only.lower() not in name.lower():
                    continue
                cpu_ms, p50 = measure(proc.pid, n, send, ok)
                print(f"{name:30} {cpu_ms:17.2f} ms {p50:12.2f} ms")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
