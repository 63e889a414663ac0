"""`branchline backup` / `branchline restore` and the nightly job, on the embedded backend.

A real server keeps writing through the sync endpoints while `branchline backup` runs in
another process; the snapshot is restored into an empty data folder and compared with the
live data, document by document and revision by revision.
"""

from __future__ import annotations

import os
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from api.backups.service import backup_embedded, list_snapshots, restore_embedded
from api.backups.tasks import backup_job, run_nightly_backup
from api.settings import Settings
from sync.embedded import EmbeddedStore
from sync.errors import Conflict
from tests.conftest import ServerProcess, Tenant, branchline_cli, wait_until


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return branchline_cli({**os.environ, "BRANCHLINE_DATA_DIR": str(data_dir)}, *args)


def full_dump(store: EmbeddedStore) -> dict:
    """Every database: every document's leaves (bodies, histories, attachments), the
    devices' `_security`, and update_seq."""
    out = {}
    for name in store.list_dbs():
        db = store.db(name)
        docs = {}
        for row in db.changes(style="all_docs")["results"]:
            docs[row["id"]] = sorted(
                (e["ok"] for e in db.get_open_revs(row["id"], "all", revs=True, attachments=True)),
                key=lambda d: d["_rev"],
            )
        try:
            security = db.get_local("_local/_branchline_security")
        except Exception:
            security = None
        out[name] = {"docs": docs, "update_seq": db.update_seq, "security": security}
    return out


@pytest.fixture
def live(tmp_path):
    srv = ServerProcess(tmp_path / "live").start()
    yield srv
    srv.stop()


def test_backup_taken_during_writes_restores_every_document(live, tmp_path):
    with httpx.Client(base_url=live.url, timeout=30) as http:
        tenant = Tenant(http)
        clients = f"/sync/{tenant.id}/clients"
        # A doc with an attachment and a conflict, written before the backup starts.
        http.put(
            f"{clients}/client:acme",
            headers=tenant.headers,
            json={
                "type": "client",
                "schema_version": 1,
                "name": "Acme",
                "values": {},
                "_attachments": {"logo.png": {"content_type": "image/png", "data": "iVBORw0KGgo="}},
            },
        )
        http.post(
            f"{clients}/_bulk_docs",
            headers=tenant.headers,
            json={
                "new_edits": False,
                "docs": [
                    {
                        "_id": "client:acme",
                        "_rev": "1-ffff",
                        "type": "client",
                        "schema_version": 1,
                        "name": "Acme (offline)",
                        "values": {},
                    }
                ],
            },
        )
        written: list[str] = []
        stop = threading.Event()
        errors: list[str] = []

        def writer():
            n = 0
            with httpx.Client(base_url=live.url, timeout=30) as w:
                while not stop.is_set():
                    docs = [
                        {
                            "_id": f"client:c{n + i:06d}",
                            "type": "client",
                            "schema_version": 1,
                            "name": f"Client {n + i}",
                            "values": {"n": n + i},
                        }
                        for i in range(20)
                    ]
                    r = w.post(f"{clients}/_bulk_docs", headers=tenant.headers, json={"docs": docs})
                    if r.status_code != 201:
                        errors.append(r.text)
                        return
                    written.extend(d["_id"] for d in docs)
                    n += 20

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            wait_until(lambda: len(written) >= 200, message="writes before the backup")
            before = len(written)
            result = cli(live.data_dir, "backup", "--dest", str(tmp_path / "backups"))
            assert result.returncode == 0, result.stderr
            wait_until(lambda: len(written) >= before + 200, message="writes after the backup")
        finally:
            stop.set()
            thread.join(30)
        assert not errors, errors
    live.stop()

    snapshot = list_snapshots(tmp_path / "backups")[-1]
    restored_dir = tmp_path / "restored"
    result = cli(restored_dir, "restore", str(snapshot))
    assert result.returncode == 0, result.stderr

    live_store, restored_store = EmbeddedStore(live.data_dir), EmbeddedStore(restored_dir)
    try:
        live_dump, restored_dump = full_dump(live_store), full_dump(restored_store)
    finally:
        live_store.close()
        restored_store.close()
    assert set(restored_dump) == set(live_dump)
    name = next(n for n in restored_dump if n.endswith("_clients"))
    got, now = restored_dump[name]["docs"], live_dump[name]["docs"]
    # Every document the backup holds is exactly the live one (these are never edited).
    for docid, leaves in got.items():
        assert leaves == now[docid], docid
    # The writes acknowledged before the backup started are all in it; later ones are not
    # required, but the snapshot is one state: a seq-ordered prefix of the live feed.
    ids = {d for d in got if d.startswith("client:c")}
    assert set(written[:before]) <= ids
    assert ids == set(written[: len(ids)])
    assert len(ids) < len(written)
    assert len(got["client:acme"]) == 2  # the conflict survives, with its attachment
    assert restored_dump[name]["update_seq"] <= live_dump[name]["update_seq"]
    # Every other database (the system's, trees, sessions) is identical.
    for other in restored_dump:
        if other != name:
            assert restored_dump[other] == live_dump[other], other


def test_quiet_backup_restores_identically_and_tokens_still_work(live, tmp_path):
    with httpx.Client(base_url=live.url, timeout=30) as http:
        tenant = Tenant(http)
        http.put(
            f"/sync/{tenant.id}/clients/_security",
            headers=tenant.headers,
            json={"admins": {"names": [], "roles": []}, "members": {"names": [], "roles": []}},
        )
    result = cli(live.data_dir, "backup", "--dest", str(tmp_path / "backups"))
    assert result.returncode == 0, result.stderr
    live.stop()
    snapshot = list_snapshots(tmp_path / "backups")[-1]
    restored = ServerProcess(
        tmp_path / "restored", env={"BRANCHLINE_SECRET_KEY": live.env["BRANCHLINE_SECRET_KEY"]}
    )
    assert cli(restored.data_dir, "restore", str(snapshot)).returncode == 0
    a, b = EmbeddedStore(live.data_dir), EmbeddedStore(restored.data_dir)
    try:
        assert full_dump(a) == full_dump(b)
    finally:
        a.close()
        b.close()
    restored.start()
    try:
        with httpx.Client(base_url=restored.url, timeout=30) as http:
            r = http.post("/api/v1/auth/refresh", json={"refresh_token": tenant.tokens["refresh_token"]})
            assert r.status_code == 200, r.text
    finally:
        restored.stop()


def test_restore_refuses_a_data_folder_that_holds_databases(tmp_path):
    store = EmbeddedStore(tmp_path / "data")
    store.create_db("branchline_system").put({"_id": "x"})
    store.close()
    report = backup_embedded(tmp_path / "data", tmp_path / "backups")
    with pytest.raises(Conflict):
        restore_embedded(report.path, tmp_path / "data")
    result = cli(tmp_path / "data", "restore", str(report.path))
    assert result.returncode == 1 and "empty data folder" in result.stderr


def _ctx(data_dir: Path, keep: int) -> SimpleNamespace:
    return SimpleNamespace(settings=Settings(data_dir=data_dir, backup_keep=keep), last_backup=None)


def test_nightly_job_one_failing_tenant_never_stops_the_others_and_old_snapshots_go(tmp_path):
    data = tmp_path / "data"
    store = EmbeddedStore(data)
    store.create_db("branchline_system").put({"_id": "tenant:aaaaaa"})
    for tid in ("aaaaaa", "bbbbbb", "cccccc"):
        store.create_db(f"t_{tid}_sessions").put({"_id": f"doc-{tid}"})
    store.close()
    # Tenant bbbbbb's file is damaged: its backup fails, a and c are still backed up.
    (data / "dbs" / "t_bbbbbb_sessions.sqlite").write_bytes(b"not a database" * 100)
    ctx = _ctx(data, keep=2)
    reports = [run_nightly_backup(ctx) for _ in range(3)]
    assert set(reports[-1].failed) == {"bbbbbb"}
    assert set(reports[-1].databases) == {"branchline_system", "t_aaaaaa_sessions", "t_cccccc_sessions"}
    snapshots = list_snapshots(data / "backups")
    assert [p.name for p in snapshots] == [r.path.name for r in reports[1:]]
    restore_embedded(snapshots[-1], tmp_path / "restored")
    restored = EmbeddedStore(tmp_path / "restored")
    try:
        assert restored.db("t_cccccc_sessions").get("doc-cccccc")["_id"] == "doc-cccccc"
        assert not restored.db_exists("t_bbbbbb_sessions")
    finally:
        restored.close()
    assert ctx.last_backup["failed"].keys() == {"bbbbbb"}


def test_the_backup_job_is_scheduled_nightly_on_the_embedded_backend_only(tmp_path):
    job = backup_job(_ctx(tmp_path / "data", keep=3))
    assert job is not None and job.id == "backup-nightly"
    first = job.trigger.get_next_fire_time(None, datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    assert first == datetime(2026, 12, 4, 2, 30, tzinfo=UTC)
    couch = SimpleNamespace(
        settings=Settings(
            backend="couchdb", couchdb_url="http://127.0.0.1:1", secret_key="k" * 40, data_dir=tmp_path / "d"
        )
    )
    assert backup_job(couch) is None  # nothing local to back up on CouchDB
