"""Durability: SIGKILL the server while writes are in flight, ten times, at random moments.

After each restart, every revision the server acknowledged (answered 201 for) must be there,
and SQLite's integrity check must pass on every database file. A write that was not
acknowledged may or may not have landed; either is fine, a lost acknowledged one is not.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
import uuid

import httpx

from tests.conftest import wait_until
from tests.sync.conftest import ADMIN, SyncServer

ROUNDS = 10


def _writer(url: str, acked: list[tuple[str, str]], stop: threading.Event, db: str) -> None:
    """Single documents and batches as fast as the server takes them, recording what it acked."""
    with httpx.Client(base_url=url, auth=ADMIN, timeout=5) as c:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                if n % 3:
                    docid = f"d-{uuid.uuid4().hex}"
                    r = c.put(f"/{db}/{docid}", json={"n": n, "pad": "x" * 200})
                    if r.status_code == 201:
                        acked.append((docid, r.json()["rev"]))
                else:
                    docs = [{"_id": f"b-{uuid.uuid4().hex}", "n": n, "i": i} for i in range(20)]
                    r = c.post(f"/{db}/_bulk_docs", json={"docs": docs})
                    if r.status_code == 201:
                        acked.extend((row["id"], row["rev"]) for row in r.json() if "rev" in row)
            except httpx.HTTPError:
                return  # the server is gone: this round's writing is over


def test_acknowledged_writes_survive_sigkill_at_random_moments(tmp_path):
    rnd = random.Random(20261126)
    srv = SyncServer(tmp_path / "data").start()
    db = "durable"
    try:
        with httpx.Client(base_url=srv.tenant_url(), auth=ADMIN, timeout=10) as c:
            assert c.put(f"/{db}").status_code == 201
        all_acked: list[tuple[str, str]] = []
        for round_no in range(ROUNDS):
            acked: list[tuple[str, str]] = []
            stop = threading.Event()
            writers = [
                threading.Thread(target=_writer, args=(srv.tenant_url(), acked, stop, db)) for _ in range(2)
            ]
            for t in writers:
                t.start()
            # Writing has started (a busy machine may take a while to get there), then the
            # crash comes at a random moment.
            wait_until(
                lambda acked=acked: acked, timeout=30, message=f"round {round_no}: a first acknowledged write"
            )
            time.sleep(rnd.uniform(0.0, 1.0))
            srv.kill()
            stop.set()
            for t in writers:
                t.join(10)
            assert acked, f"round {round_no}: nothing was written before the kill"
            all_acked.extend(acked)
            for path in sorted((srv.data_dir / "dbs").glob("*.sqlite")):
                con = sqlite3.connect(path)
                try:
                    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", path
                finally:
                    con.close()
            srv.start()
            with httpx.Client(base_url=srv.tenant_url(), auth=ADMIN, timeout=30) as c:
                ids = [docid for docid, _ in all_acked]
                rows = {}
                for i in range(0, len(ids), 500):
                    r = c.post(f"/{db}/_all_docs", json={"keys": ids[i : i + 500]})
                    assert r.status_code == 200, r.text
                    rows.update({row["key"]: row for row in r.json()["rows"]})
                lost = [
                    (docid, rev)
                    for docid, rev in all_acked
                    if rows.get(docid, {}).get("value", {}).get("rev") != rev
                ]
                assert not lost, f"round {round_no}: {len(lost)} acknowledged writes lost, e.g. {lost[:3]}"
        assert len(all_acked) > ROUNDS * 10
    finally:
        srv.stop()
