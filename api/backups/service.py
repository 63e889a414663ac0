"""Backups of the embedded backend, and copying databases between stores.

A snapshot is a folder `{backup_dir}/{YYYYmmddTHHMMSSffffffZ}/` holding:

- `dbs/{name}.sqlite`: each database copied with SQLite's online backup API, which reads
  one consistent state of the file while the server keeps writing (WAL readers never block
  the writer, and the copy is made in a single step, so it is never a mix of two states);
- `secret.key`: the signing secret, so restored sign-ins and refresh tokens stay valid;
- `manifest.json`: per database its size, sha256, document count and update_seq, plus the
  tenants that failed (a nightly run carries on past a failing tenant).

Each database is consistent on its own; databases are copied one after the other, so a
write landing between two copies is in the later one only (as with any per-database
CouchDB backup). Restoring puts the files back into an *empty* data folder after checking
every checksum and SQLite's integrity check.

On the couchdb backend, backups are CouchDB's business (replicate to a second cluster, or
Cloudant's backups); `copy_store` copies every database, every leaf revision with its
history and attachments, between any two stores, which is also how an embedded install
moves to CouchDB (`branchline migrate`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync.errors import BadRequest, BranchlineError, Conflict
from sync.naming import SYSTEM_DB, tenant_of, tenant_prefix
from sync.private_files import DIR_MODE, private_dir, private_file, private_sqlite
from sync.store import Database, Store

from ..sync_history import forget_file_history

log = logging.getLogger("branchline.backups")

MANIFEST = "manifest.json"
FORMAT = "branchline-embedded-backup"
_STAMP = "%Y%m%dT%H%M%S%fZ"


class BackupError(BranchlineError):
    status, error = 500, "backup_failed"


@dataclass
class BackupReport:
    path: Path
    databases: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # tenant id (or "system") -> error

    @property
    def ok(self) -> bool:
        return not self.failed


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _dbs_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "dbs"


def snapshot_database(source: Path, target: Path) -> dict[str, Any]:
    """Copy one live SQLite database file consistently; returns its manifest entry."""
    private_dir(target.parent)
    partial = target.with_suffix(".partial")
    # A connection of our own: the server's keeps writing while this one reads a snapshot.
    if not source.exists():
        raise BackupError(f"{source} does not exist.")
    src = sqlite3.connect(str(source), timeout=30)
    try:
        private_sqlite(partial)
        dst = sqlite3.connect(str(partial))
        try:
            src.backup(dst)  # pages=-1: one step, one read transaction, one state
            dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
            row = dst.execute("SELECT COUNT(*), COALESCE(SUM(deleted = 0), 0) FROM docs").fetchone()
            seq = dst.execute("SELECT value FROM meta WHERE key = 'update_seq'").fetchone()
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, target)
    return {
        "file": f"dbs/{target.name}",
        "bytes": target.stat().st_size,
        "sha256": _sha256(target),
        "docs": row[0],
        "doc_count": row[1],
        "update_seq": int(seq[0]) if seq else 0,
    }


def _tenant_groups(names: Iterable[str]) -> dict[str, list[str]]:
    """Database names by tenant id (`system` for the system database, `other` for the rest)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        if name == SYSTEM_DB:
            key = "system"
        else:
            key = tenant_of(name) or "other"
        groups.setdefault(key, []).append(name)
    return groups


def new_snapshot_dir(backup_dir: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime(_STAMP)
    private_dir(Path(backup_dir))
    path = Path(backup_dir) / stamp
    path.mkdir(exist_ok=False, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def backup_embedded(
    data_dir: Path,
    backup_dir: Path,
    *,
    tenants: Iterable[str] | None = None,
    on_tenant: Callable[[str], None] | None = None,
) -> BackupReport:
    """Snapshot every database of an embedded data folder into a new folder of `backup_dir`.

    Runs once per tenant (and once for the system database): one tenant's failure is
    recorded in the report and the manifest, and the others are still backed up.
    """
    data_dir = Path(data_dir)
    names = sorted(p.name[: -len(".sqlite")] for p in _dbs_dir(data_dir).glob("*.sqlite"))
    groups = _tenant_groups(names)
    if tenants is not None:
        wanted = set(tenants) | {"system"}
        groups = {k: v for k, v in groups.items() if k in wanted}
    report = BackupReport(new_snapshot_dir(backup_dir))
    for key in sorted(groups, key=lambda k: (k != "system", k)):
        try:
            if on_tenant is not None:
                on_tenant(key)
            for name in groups[key]:
                report.databases[name] = snapshot_database(
                    _dbs_dir(data_dir) / f"{name}.sqlite", report.path / "dbs" / f"{name}.sqlite"
                )
        except Exception as exc:
            log.exception("backup of %s failed", key)
            report.failed[key] = f"{type(exc).__name__}: {exc}"
            for name in groups[key]:
                report.databases.pop(name, None)
                (report.path / "dbs" / f"{name}.sqlite").unlink(missing_ok=True)
                (report.path / "dbs" / f"{name}.partial").unlink(missing_ok=True)
    secret = data_dir / "secret.key"
    if secret.exists():
        shutil.copy2(secret, report.path / "secret.key")
        os.chmod(report.path / "secret.key", 0o600)
    manifest = {
        "format": FORMAT,
        "version": 1,
        "created_at": report.path.name,
        "databases": report.databases,
        "failed": report.failed,
    }
    (report.path / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    private_file(report.path / MANIFEST)
    return report


def read_manifest(snapshot: Path) -> dict[str, Any]:
    path = Path(snapshot) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        raise BadRequest(
            f"{snapshot} is not a Branchline backup: {MANIFEST} is missing or unreadable."
        ) from None
    if manifest.get("format") != FORMAT:
        raise BadRequest(f"{snapshot} is not a Branchline embedded backup.")
    return manifest


def restore_embedded(snapshot: Path, data_dir: Path) -> dict[str, Any]:
    """Put a snapshot back into an empty data folder; refuses a folder holding databases."""
    snapshot, data_dir = Path(snapshot), Path(data_dir)
    manifest = read_manifest(snapshot)
    target = _dbs_dir(data_dir)
    if target.exists() and any(target.glob("*.sqlite")):
        raise Conflict(
            f"{data_dir} already holds databases; restore into an empty data folder "
            "(set BRANCHLINE_DATA_DIR to a new folder), then swap folders."
        )
    for name, entry in manifest["databases"].items():
        path = snapshot / entry["file"]
        if not path.exists() or _sha256(path) != entry["sha256"]:
            raise BadRequest(f"The backup of {name} is damaged (checksum mismatch); use another snapshot.")
    staging = data_dir / "dbs.restoring"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, entry in manifest["databases"].items():
        dst = staging / f"{name}.sqlite"
        shutil.copy2(snapshot / entry["file"], dst)
        conn = sqlite3.connect(str(dst))
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
        if ok != "ok":
            raise BadRequest(f"The backup of {name} fails SQLite's integrity check: {ok}.")
    secret = snapshot / "secret.key"
    if secret.exists() and not (data_dir / "secret.key").exists():
        shutil.copy2(secret, data_dir / "secret.key")
        os.chmod(data_dir / "secret.key", 0o600)
    if target.exists():
        target.rmdir()
    os.replace(staging, target)
    # Even restored into the folder it was taken from: devices must start over once.
    forget_file_history(data_dir)
    return manifest


def list_snapshots(backup_dir: Path) -> list[Path]:
    """Complete snapshots (with a manifest), oldest first."""
    root = Path(backup_dir)
    if not root.exists():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).exists())


def apply_retention(backup_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` snapshots; returns the deleted ones."""
    if keep < 1:
        raise BadRequest("Backup retention must keep at least one snapshot.")
    snapshots = list_snapshots(backup_dir)
    gone = snapshots[:-keep]
    for path in gone:
        shutil.rmtree(path, ignore_errors=True)
    return gone


# --- copying between stores (any backend to any backend) ---------------------------------------


def leaf_revisions(
    src: Database, *, batch: int = 200, missing_in: Database | None = None
) -> Iterator[list[dict]]:
    """Every leaf revision of `src` (deleted ones and conflicts included), each with its
    `_revisions` history and inline attachment data, in batches of at most `batch` documents
    in `_changes` order: what `_bulk_docs` with `new_edits=false` takes to recreate them.

    With `missing_in`, only the revisions that database lacks (`_revs_diff`), so a copy run
    again writes nothing twice. One batch is in memory at a time."""
    since: Any = 0
    while True:
        res = src.changes(since=since, limit=batch, style="all_docs", pending=False)
        rows = res["results"]
        if not rows:
            break
        wanted = {r["id"]: [c["rev"] for c in r["changes"]] for r in rows}
        if missing_in is not None:
            missing = missing_in.revs_diff(wanted)
            requests = [{"id": d, "rev": rev} for d, entry in missing.items() for rev in entry["missing"]]
        else:
            requests = [{"id": d, "rev": rev} for d, revs in wanted.items() for rev in revs]
        if requests:
            docs = []
            for item in src.bulk_get(requests, revs=True, attachments=True):
                for entry in item["docs"]:
                    if "ok" in entry:
                        docs.append(entry["ok"])
            if docs:
                yield docs
        since = res["last_seq"]
        if len(rows) < batch:
            break


def write_revisions(dst: Database, docs: list[dict]) -> None:
    """Write revisions read by `leaf_revisions` as they are (`new_edits=false`)."""
    for result in dst.bulk_docs(docs, new_edits=False):
        if "error" in result:
            raise BackupError(
                f"Copying {result.get('id')} into {dst.name} failed: "
                f"{result['error']}: {result.get('reason')}"
            )


def copy_database(src: Database, dst: Database, *, batch: int = 200) -> int:
    """Every document of `src` into `dst`: all leaf revisions with their histories and
    attachments, written with `new_edits=false` (so revisions and conflicts are kept as
    they are). Returns how many revisions were written. Safe to run again."""
    written = 0
    for docs in leaf_revisions(src, batch=batch, missing_in=dst):
        write_revisions(dst, docs)
        written += len(docs)
    try:
        limit = src.get_revs_limit()
        if limit != dst.get_revs_limit():
            dst.set_revs_limit(limit)
    except BranchlineError:
        pass
    return written


SECURITY_DOC = "_local/_branchline_security"  # the devices' `_security` view (sync/http.py)


def copy_store(
    src: Store,
    dst: Store,
    *,
    names: Iterable[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Copy every database (or `names`) from one store to another; creates missing ones."""
    out: dict[str, int] = {}
    for name in names if names is not None else src.list_dbs():
        source = src.db(name)
        target = dst.db(name) if dst.db_exists(name) else dst.create_db(name)
        out[name] = copy_database(source, target)
        try:
            security = source.get_local(SECURITY_DOC)
        except BranchlineError:
            security = None
        if security is not None:
            body = {k: v for k, v in security.items() if not k.startswith("_")}
            try:
                current = target.get_local(SECURITY_DOC)
                body["_rev"] = current["_rev"]
            except BranchlineError:
                pass
            target.put_local({"_id": SECURITY_DOC, **body})
        if progress is not None:
            progress(name, out[name])
    return out


def tenant_databases(store: Store, tenant_id: str) -> list[str]:
    return [n for n in store.list_dbs() if n.startswith(tenant_prefix(tenant_id))]
