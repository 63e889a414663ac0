"""A phone keeps its replication checkpoints to itself (pwa/src/data/replication.ts), so the
server's copy of its data going back in time must still make it start over: after
`branchline restore`, the server's welcome `uuid` names a new history (api/sync_history.py),
and the phone sends again what the backup missed and reads what was written since, though the
restored server's seqs are lower than the ones it had seen."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from api.backups.service import list_snapshots
from tests.backups.test_backup_restore import cli
from tests.conftest import ServerProcess, Tenant
from tests.sync.conftest import run_node
from tests.ts_runner import ROOT, bundle_for_require


@pytest.fixture(scope="module")
def replication(tmp_path_factory) -> str:
    """The PWA's replication module bundled for Node's require."""
    out = tmp_path_factory.mktemp("replication") / "replication.cjs"
    return str(bundle_for_require(ROOT / "pwa/src/data/replication.ts", out))


def client_ids(prefix: str, n: int) -> list[str]:
    return [f"client:{prefix}-{i}" for i in range(n)]


def phone(server: ServerProcess, tenant: Tenant, folder: Path, replication: str, **run) -> dict:
    out = run_node(
        "device_restore.js",
        {
            "url": f"{server.url}/sync/{tenant.id}/clients",
            "token": tenant.tokens["access_token"],
            "folder": str(folder),
            "replication": replication,
            **{"write": [], "server_has": [], "phone_has": [], **run},
        },
    )
    assert out["errors"] == [], out
    return out


def put_clients(http: httpx.Client, tenant: Tenant, ids: list[str]) -> None:
    """Clients written on the server itself (another engineer's, as far as the phone knows)."""
    for doc_id in ids:
        r = http.put(
            f"/sync/{tenant.id}/clients/{doc_id}",
            headers=tenant.headers,
            json={"type": "client", "schema_version": 1, "name": doc_id, "values": {}},
        )
        assert r.status_code == 201, r.text


def welcome(server: ServerProcess, tenant: Tenant) -> str:
    return httpx.get(f"{server.url}/sync/{tenant.id}/", headers=tenant.headers, timeout=30).json()["uuid"]


def test_after_a_restore_the_phone_sends_again_what_the_backup_missed_and_reads_whats_new(
    tmp_path, replication
):
    folder = tmp_path / "phone"
    live = ServerProcess(tmp_path / "live").start()
    try:
        with httpx.Client(base_url=live.url, timeout=30) as http:
            tenant = Tenant(http)
        before = client_ids("before-backup", 3)
        after = client_ids("after-backup", 4)
        phone(live, tenant, folder, replication, write=before, server_has=before)
        assert cli(live.data_dir, "backup", "--dest", str(tmp_path / "backups")).returncode == 0
        out = phone(live, tenant, folder, replication, write=after, server_has=after)
        # The checkpoints stay on the phone: the server was never asked to keep one.
        assert not any("_local" in k for k in out["requests"]), out["requests"]
        # Another engineer's clients, enough for the live server's seqs to run ahead of the
        # restored one's by more than anything the restored server is given later.
        with httpx.Client(base_url=live.url, timeout=30) as http:
            put_clients(http, tenant, client_ids("elsewhere", 10))
        phone(live, tenant, folder, replication, phone_has=client_ids("elsewhere", 10))
        old_uuid = welcome(live, tenant)
    finally:
        live.stop()

    restored = ServerProcess(
        tmp_path / "restored", env={"BRANCHLINE_SECRET_KEY": live.env["BRANCHLINE_SECRET_KEY"]}
    )
    snapshot = list_snapshots(tmp_path / "backups")[-1]
    assert cli(restored.data_dir, "restore", str(snapshot)).returncode == 0
    restored.start()
    try:
        assert welcome(restored, tenant) != old_uuid
        with httpx.Client(base_url=restored.url, timeout=30) as http:
            # The backup holds what was written before it, not after.
            for doc_id in before:
                assert (
                    http.get(f"/sync/{tenant.id}/clients/{doc_id}", headers=tenant.headers).status_code == 200
                )
            for doc_id in after:
                assert (
                    http.get(f"/sync/{tenant.id}/clients/{doc_id}", headers=tenant.headers).status_code == 404
                )
            # Written on the restored server: seqs the phone had already passed on the old one.
            new = client_ids("restored", 2)
            put_clients(http, tenant, new)
        # The phone comes back: the server gets back what the restore lost, the phone reads
        # what was written since.
        phone(restored, tenant, folder, replication, server_has=after, phone_has=new)
        # And the name is stable: the same data folder started again keeps its history.
        restored.stop()
        restored.start()
        assert welcome(restored, tenant) != old_uuid
        uuid_now = welcome(restored, tenant)
        restored.stop()
        restored.start()
        assert welcome(restored, tenant) == uuid_now
    finally:
        restored.stop()


def test_after_a_power_cut_took_the_last_commits_the_phone_sends_them_again(tmp_path, replication):
    """SQLite keeps every commit through a killed process but may lose the last few to a power
    cut. A process that stopped without closing makes the next start begin a new history, so
    a phone told "stored" for a note the disk then lost sends it again."""
    folder = tmp_path / "phone"
    srv = ServerProcess(tmp_path / "server").start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            tenant = Tenant(http)
        early = client_ids("early", 3)
        phone(srv, tenant, folder, replication, write=early, server_has=early)
        srv.stop()
        # The disk as the power cut will leave it: without what is written from here on.
        dbs = srv.data_dir / "dbs"
        shutil.copytree(dbs, tmp_path / "disk-before")
        srv.start()
        before = welcome(srv, tenant)
        late = client_ids("late", 4)
        phone(srv, tenant, folder, replication, write=late, server_has=late)
        srv.kill()  # the power cut: no clean stop
        shutil.rmtree(dbs)
        shutil.copytree(tmp_path / "disk-before", dbs)
        srv.start()
        assert welcome(srv, tenant) != before
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            for doc_id in late:
                gone = http.get(f"/sync/{tenant.id}/clients/{doc_id}", headers=tenant.headers)
                assert gone.status_code == 404
        phone(srv, tenant, folder, replication, server_has=late + early)
    finally:
        srv.stop()
