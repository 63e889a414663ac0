"""One workspace's view of the instance's backups, and its own "Back up now" snapshots.

An owner of one workspace on a shared instance sees the nightly snapshots only as far as
they concern that workspace: its own databases with their sizes and document counts, and
whether *its* part failed (with its own reason). Other tenants' names, figures and failures
never leave this module, and neither do server paths: a snapshot is named by its time stamp
only (an owner on a shared instance has no business learning the operator's folders).

"Back up now" snapshots the workspace's databases only (no system database, no
`secret.key`: those hold every tenant's accounts and the instance's key) into
`{backup_dir}/tenants/{tenant_id}/{stamp}/`, with `manifest.json` saying
`scope: {"tenant": ID}`. They sit apart from the nightly snapshots so that an owner pressing
the button seven times never pushes the operator's full snapshots out of retention; each
workspace keeps its newest `backup_keep` of its own. `restore_embedded` restores one into
an empty data folder like any snapshot (the workspace's databases, without its accounts).

Why synchronous: SQLite's online backup copies a database in one step at disk speed, and a
workspace's databases are small beside that (measured: see the README's backup section), so
the snapshot finishes well inside a request; a background job with polling would add state
that can be lost on a restart for no gain. One backup per workspace at a time is enforced
with an exclusive `flock` on `{backup_dir}/tenants/{tenant_id}/.lock`, which the kernel
releases if the process dies, so a crash never leaves the workspace locked, and which also
holds against a second server process on the same data folder.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync.errors import Conflict
from sync.naming import is_tenant_id, logical_of, tenant_of, tenant_prefix
from sync.private_files import private_dir, private_file

from .service import (
    _STAMP,
    FORMAT,
    MANIFEST,
    BackupError,
    apply_retention,
    list_snapshots,
    new_snapshot_dir,
    snapshot_database,
)

TENANT_FOLDER = "tenants"


def tenant_root(backup_dir: Path, tenant_id: str) -> Path:
    if not is_tenant_id(tenant_id):  # the id becomes a folder name
        raise ValueError(f"malformed tenant id {tenant_id!r}")
    return Path(backup_dir) / TENANT_FOLDER / tenant_id


@contextmanager
def tenant_lock(backup_dir: Path, tenant_id: str) -> Iterator[None]:
    """Hold the workspace's backup lock, or refuse with 409 while another backup holds it."""
    root = tenant_root(backup_dir, tenant_id)
    private_dir(root)
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(
                "A backup of this workspace is already running. Wait for it to finish (a few "
                "seconds), then look at the list of snapshots before starting another."
            ) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def backup_tenant(data_dir: Path, backup_dir: Path, tenant_id: str, *, keep: int) -> dict[str, Any]:
    """Snapshot the workspace's databases into a new tenant-scoped snapshot; answers its
    manifest. On a failure the snapshot is kept as a failed one (manifest only, no partial
    files) so the page can show it, and `BackupError` says why."""
    with tenant_lock(backup_dir, tenant_id):
        root = tenant_root(backup_dir, tenant_id)
        dbs = Path(data_dir) / "dbs"
        names = sorted(p.name[: -len(".sqlite")] for p in dbs.glob(f"{tenant_prefix(tenant_id)}*.sqlite"))
        path = new_snapshot_dir(root)
        databases: dict[str, dict[str, Any]] = {}
        failed: dict[str, str] = {}
        try:
            for name in names:
                databases[name] = snapshot_database(dbs / f"{name}.sqlite", path / "dbs" / f"{name}.sqlite")
        except Exception as exc:  # noqa: BLE001 - any failure is recorded as this snapshot's reason
            failed[tenant_id] = f"{type(exc).__name__}: {exc}"
            databases = {}
            shutil.rmtree(path / "dbs", ignore_errors=True)
        manifest = {
            "format": FORMAT,
            "version": 1,
            "created_at": path.name,
            "scope": {"tenant": tenant_id},
            "databases": databases,
            "failed": failed,
        }
        (path / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        private_file(path / MANIFEST)
        apply_retention(root, keep)
    if failed:
        raise BackupError(f"The backup of this workspace failed: {failed[tenant_id]}")
    return manifest


def is_running(backup_dir: Path, tenant_id: str) -> bool:
    root = tenant_root(backup_dir, tenant_id)
    if not (root / ".lock").exists():
        return False
    fd = os.open(root / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def stamp_time(stamp: str) -> str:
    """A snapshot folder's name (`20261204T023000123456Z`) as ISO 8601 with milliseconds."""
    when = datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def tenant_part(manifest: dict[str, Any], tenant_id: str, kind: str) -> dict[str, Any] | None:
    """What one snapshot holds of one tenant, or None when it holds nothing of it (a nightly
    snapshot taken before the workspace existed). Pure: the manifest in, the public view out,
    with nothing of any other tenant."""
    mine = {
        name: entry
        for name, entry in (manifest.get("databases") or {}).items()
        if tenant_of(name) == tenant_id
    }
    error = (manifest.get("failed") or {}).get(tenant_id)
    if not mine and error is None:
        return None
    databases = [
        {"name": logical_of(name), "bytes": int(entry["bytes"]), "doc_count": int(entry["doc_count"])}
        for name, entry in sorted(mine.items())
    ]
    stamp = str(manifest.get("created_at"))
    return {
        "id": f"{kind}-{stamp}",
        "kind": kind,
        "created_at": stamp_time(stamp),
        "ok": error is None,
        "error": error,
        "bytes": sum(d["bytes"] for d in databases),
        "doc_count": sum(d["doc_count"] for d in databases),
        "databases": databases,
    }


def tenant_snapshots(backup_dir: Path, tenant_id: str) -> list[dict[str, Any]]:
    """The nightly snapshots that hold this tenant and its own, newest first."""
    found = []
    for kind, root in (("nightly", Path(backup_dir)), ("workspace", tenant_root(backup_dir, tenant_id))):
        for path in list_snapshots(root):
            try:
                manifest = json.loads((path / MANIFEST).read_text())
            except (OSError, ValueError):
                continue  # a damaged manifest is the operator's to see, not a reason to fail the page
            part = tenant_part(manifest, tenant_id, kind)
            if part is not None:
                found.append(part)
    return sorted(found, key=lambda p: p["created_at"], reverse=True)


_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def describe_cron(expr: str) -> str:
    """A crontab line in words for the common shapes (daily, weekly, hourly at a minute),
    the line itself otherwise. Pure."""
    parts = expr.split()
    if len(parts) != 5:
        return f"On the cron schedule {expr} (UTC)"
    minute, hour, dom, month, dow = parts
    if minute.isdigit() and dom == "*" and month == "*":
        if hour.isdigit():
            at = f"{int(hour):02d}:{int(minute):02d} UTC"
            if dow == "*":
                return f"Every day at {at}"
            if dow.isdigit() and int(dow) <= 7:
                return f"Every {_DAYS[int(dow) % 7]} at {at}"
        if hour == "*" and dow == "*":
            return f"Every hour at minute {int(minute)}"
    return f"On the cron schedule {expr} (UTC)"
