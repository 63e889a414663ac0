"""`branchline audit verify` and retention, against the data folder a real server wrote.

Each test runs its own server, stops it, then changes the store directly (as someone with
access to the data folder would) and runs the command line as an operator does.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx

from api.audit import repository as repo
from api.audit.chain import entry_hash, entry_id
from api.audit.service import apply_retention, parse_ts
from api.core.context import AppContext, open_store
from api.jobs.schedule import AUDIT_RETENTION_ID, jobs
from api.settings import Settings
from sync.naming import physical_name
from sync.store import Database
from tests.conftest import ROOT, ServerProcess, Tenant


def verify_cli(srv: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "audit", "verify", *args],
        cwd=ROOT,
        env=srv.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextmanager
def audit_db(srv: ServerProcess, tenant_id: str) -> Iterator[Database]:
    store = open_store(Settings(data_dir=srv.data_dir, secret_key=srv.env["BRANCHLINE_SECRET_KEY"]))
    try:
        yield store.db(physical_name(tenant_id, "audit"))
    finally:
        store.close()


def tenant_with_entries(srv: ServerProcess, keys: int) -> Tenant:
    with httpx.Client(base_url=srv.url, timeout=30) as http:
        tenant = Tenant(http)
        for i in range(keys):
            assert (
                http.post("/api/v1/api-keys", headers=tenant.headers, json={"name": f"k{i}"}).status_code
                == 201
            )
        tenant.http = None  # type: ignore[assignment]  # the client closes here
    return tenant


def test_verify_passes_then_names_the_entry_edited_or_removed_in_the_store(tmp_path: Path):
    srv = ServerProcess(tmp_path / "data").start()
    try:
        tenant = tenant_with_entries(srv, keys=4)
        other = tenant_with_entries(srv, keys=1)
    finally:
        srv.stop()
    total = 1 + 4  # tenant.created, then one per key

    ok = verify_cli(srv, "--tenant", tenant.id)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"{tenant.id}: ok {total} entries"

    with audit_db(srv, tenant.id) as db:
        original = db.get("audit:000000000003")
        edited = {**original, "details": {**original["details"], "name": "nothing to see"}}
        db.put(edited)
    broken = verify_cli(srv, "--tenant", tenant.id)
    assert broken.returncode == 1
    assert "entry 3 was edited" in broken.stdout and "after 2 good entries" in broken.stdout

    everything = verify_cli(srv)  # every tenant: the other one is still fine
    assert everything.returncode == 1
    assert f"{other.id}: ok 2 entries" in everything.stdout and f"{tenant.id}: BROKEN" in everything.stdout

    with audit_db(srv, tenant.id) as db:
        current = db.get("audit:000000000003")
        db.put({**original, "_rev": current["_rev"]})  # the same content again: the chain holds
    assert verify_cli(srv, "--tenant", tenant.id).returncode == 0

    with audit_db(srv, tenant.id) as db:
        second = db.get("audit:000000000002")
        db.delete(second["_id"], second["_rev"])
    missing = verify_cli(srv, "--tenant", tenant.id)
    assert missing.returncode == 1 and "entry 2 missing" in missing.stdout


def test_verify_names_the_newest_entries_deleted_or_replaced_by_someone_without_the_key(tmp_path: Path):
    srv = ServerProcess(tmp_path / "data").start()
    try:
        tenant = tenant_with_entries(srv, keys=4)
    finally:
        srv.stop()
    assert verify_cli(srv, "--tenant", tenant.id).stdout.strip() == f"{tenant.id}: ok 5 entries"

    with audit_db(srv, tenant.id) as db:  # the last two entries go, the rest still chains
        removed = [db.get(entry_id(seq)) for seq in (4, 5)]
        for entry in removed:
            db.delete(entry["_id"], entry["_rev"])
    truncated = verify_cli(srv, "--tenant", tenant.id)
    assert truncated.returncode == 1, truncated.stdout
    assert "after 3 good entries" in truncated.stdout
    assert "entries 4 to 5 missing after the last one present" in truncated.stdout

    with audit_db(srv, tenant.id) as db:  # a new tail, hashed and chained as the server would
        fourth = {k: v for k, v in removed[0].items() if k != "_rev"}
        db.put(fourth)
        fake = {k: v for k, v in removed[1].items() if k != "_rev"}
        fake["details"] = {"name": "a harmless key"}
        fake["hash"] = entry_hash(fake)
        db.put(fake)
    replaced = verify_cli(srv, "--tenant", tenant.id)
    assert replaced.returncode == 1, replaced.stdout
    assert "entry 5 is not the one the signed head record names" in replaced.stdout

    with audit_db(srv, tenant.id) as db:  # and without the head record, that is said too
        fifth = db.get(entry_id(5))
        db.delete(fifth["_id"], fifth["_rev"])
        head = db.get(repo.HEAD_ID)
        db.delete(head["_id"], head["_rev"])
    headless = verify_cli(srv, "--tenant", tenant.id)
    assert headless.returncode == 1 and "the head record is missing" in headless.stdout


def test_retention_removes_old_entries_and_the_rest_stays_verifiable_from_the_signed_checkpoint(
    tmp_path: Path,
):
    srv = ServerProcess(tmp_path / "data").start()
    try:
        tenant = tenant_with_entries(srv, keys=0)
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            assert http.put(
                "/api/v1/audit/settings", headers=tenant.headers, json={"retention_days": 30}
            ).json() == {"retention_days": 30}
            for i in range(6):
                assert (
                    http.post("/api/v1/api-keys", headers=tenant.headers, json={"name": f"k{i}"}).status_code
                    == 201
                )
    finally:
        srv.stop()
    secret = srv.env["BRANCHLINE_SECRET_KEY"]
    with audit_db(srv, tenant.id) as db:
        before = list(repo.entries(db))
    assert [e["seq"] for e in before] == list(range(1, 9))
    keep_from = before[4]
    expected_removed = sum(1 for e in before if e["ts"] < keep_from["ts"])
    a_month_later = parse_ts(keep_from["ts"]) + timedelta(days=30)

    store = open_store(Settings(data_dir=srv.data_dir, secret_key=secret))
    try:
        assert apply_retention(store, secret, tenant.id, now=a_month_later) == expected_removed
        assert apply_retention(store, secret, tenant.id, now=a_month_later) == 0  # nothing more to remove
    finally:
        store.close()
    with audit_db(srv, tenant.id) as db:
        kept = list(repo.entries(db))
        checkpoint = repo.checkpoint(db)
    assert [e["seq"] for e in kept] == list(range(expected_removed + 1, 9))
    assert checkpoint is not None and checkpoint["seq"] == expected_removed
    assert checkpoint["hash"] == kept[0]["prev_hash"] == before[expected_removed - 1]["hash"]
    ok = verify_cli(srv, "--tenant", tenant.id)
    assert ok.returncode == 0 and ok.stdout.strip() == f"{tenant.id}: ok {8 - expected_removed} entries"

    srv.start()  # the chain goes on from the newest kept entry
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            r = http.post(
                "/api/v1/auth/login", json={"email": tenant.owner_email, "password": tenant.password}
            )
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            assert http.get("/api/v1/audit/verify", headers=headers).json()["ok"] is True
            oldest = http.get("/api/v1/audit", headers=headers, params={"limit": 200}).json()["items"][-1]
            assert oldest["seq"] == expected_removed + 1
    finally:
        srv.stop()

    with audit_db(srv, tenant.id) as db:  # hiding more history needs the server's key
        first = db.get(kept[0]["_id"])
        db.delete(first["_id"], first["_rev"])
        ckpt = db.get(repo.CHECKPOINT_ID)
        db.put({**ckpt, "seq": first["seq"], "hash": first["hash"]})
    forged = verify_cli(srv, "--tenant", tenant.id)
    assert forged.returncode == 1 and "checkpoint's signature does not match" in forged.stdout


def test_retention_is_a_scheduled_job(tmp_path: Path):
    ctx = AppContext.create(Settings(data_dir=tmp_path, secret_key="x" * 40))
    try:
        assert AUDIT_RETENTION_ID in {job.id for job in jobs(ctx)}
    finally:
        ctx.store.close()
