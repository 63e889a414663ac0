"""The data folder is the service user's alone: databases (WAL and shared-memory files
included), indexes, attachments, the secret and backups are never readable by other users."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx

from tests.backups.test_backup_restore import cli
from tests.conftest import ServerProcess, Tenant


def _exposed(root: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """Files and folders under `root` (itself included) that group or others may use."""
    out = []
    for path in [root, *root.rglob("*")]:
        if path.name in skip:
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            out.append(f"{path.relative_to(root.parent)} {oct(mode)}")
    return out


def _use(server: ServerProcess) -> Tenant:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        tenant = Tenant(http, starter_library=True)
        assert http.get("/api/v1/trees", headers=tenant.headers, params={"q": "citrix"}).status_code == 200
        r = http.put(
            f"/sync/{tenant.id}/clients/client:acme",
            headers=tenant.headers,
            json={"type": "client", "name": "Acme", "schema_version": 1, "values": {}},
        )
        assert r.status_code == 201, r.text
        return tenant


def test_databases_indexes_and_backups_are_private_to_the_service_user(tmp_path):
    old = os.umask(0o022)  # the usual umask: files would be 0644 unless the server says otherwise
    try:
        server = ServerProcess(tmp_path / "data").start()
        try:
            _use(server)
            dbs = list((server.data_dir / "dbs").glob("*.sqlite-wal"))
            assert dbs, "the databases run in WAL mode"
            result = cli(server.data_dir, "backup", "--dest", str(tmp_path / "backups"))
            assert result.returncode == 0, result.stderr
        finally:
            server.stop()
    finally:
        os.umask(old)
    # server.log is the test harness's own file, not the server's.
    assert _exposed(server.data_dir, skip=("server.log",)) == []
    assert _exposed(tmp_path / "backups") == []


def test_files_left_readable_by_an_older_version_are_made_private(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        _use(server)
    finally:
        server.stop()
    dbs = server.data_dir / "dbs"
    for path in [dbs, *dbs.iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    server.start()
    try:
        _use(server)
    finally:
        server.stop()
    assert _exposed(dbs) == []
