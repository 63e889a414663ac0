"""Which history of the data devices replicate with: an id that changes when the server's
databases are replaced by a restored copy.

The PWA keeps its replication checkpoints on the device only (`pwa/src/data/replication.ts`):
writing them to the server too cost two round trips per batch in each direction, about half
of all sync requests. A server-side checkpoint was also what made a device start over after
the server's data went back in time: restored from a backup, the server's checkpoint is as
old as its data, so the device sends again what the server lost and reads again what was
renumbered. With checkpoints on the device alone, that job falls to this id. PouchDB names a
replication after the server's welcome `uuid` (`GET /sync/{tenant}/`), so a new history id
gives every device's replications new names: they start from the beginning once (checking
each document, sending only what the server lacks, fetching only what the device lacks).

Where it is kept decides when it changes:
- embedded backend: a file beside the databases (`sync-history`), never in a snapshot, so a
  data folder restored with `branchline restore` (or copied by hand without it) gets a new one;
- couchdb backend: a `_local` document in the system database, which CouchDB's replication
  never copies, so a cluster refilled by replication gets a new one. A CouchDB restored from
  copies of its database files keeps the old one: delete the document after such a restore
  (README, "Backups").
An existing data folder without the id also gets a new one: devices start over once after the
upgrade that brought this in.
"""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path

from sync.errors import Conflict, NotFound
from sync.store import Database

HISTORY_FILE = "sync-history"
HISTORY_DOC = "_local/branchline-sync-history"


def welcome_uuid(tenant_id: str, history: str) -> str:
    """The tenant's server `uuid`: stable for one history of its data, on every instance and
    process; it tells nothing about whether the tenant exists."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"branchline:tenant:{tenant_id}:history:{history}").hex


def _new_id() -> str:
    return secrets.token_hex(12)


def file_history(data_dir: Path) -> str:
    """The embedded backend's id: read, or created once even when several server processes
    start on the folder at the same moment (the first to create the file wins)."""
    path = Path(data_dir) / HISTORY_FILE
    for _ in range(50):
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            text = ""
        if text:
            return text
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f"{HISTORY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        staged.write_text(_new_id() + "\n", encoding="ascii")
        try:
            os.link(staged, path)  # fails if another process created it first
        except FileExistsError:
            pass
        finally:
            staged.unlink(missing_ok=True)
    raise RuntimeError(f"{path} stays empty; remove it and start the server again.")


def document_history(system: Database) -> str:
    """The couchdb backend's id, shared by every instance on the cluster."""
    for _ in range(5):
        try:
            doc = system.get_local(HISTORY_DOC)
            if isinstance(doc.get("history"), str) and doc["history"]:
                return str(doc["history"])
        except NotFound:
            pass
        try:
            system.put_local({"_id": HISTORY_DOC, "history": _new_id()})
        except Conflict:
            pass  # another instance wrote it first: read theirs
    raise RuntimeError(f"The system database's {HISTORY_DOC} cannot be read or written.")
