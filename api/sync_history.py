"""Which history of the data devices replicate with: an id that changes when the server's
databases are replaced by a restored copy, or may have lost their last commits.

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
  data folder restored with `branchline restore` (or copied by hand without it) gets a new one.
  It is also renewed when a server process stopped without closing (killed, or the machine
  lost power): SQLite (`synchronous=NORMAL`) keeps every commit through a killed process but
  may lose the last few to a power cut, and a device that was told "stored" for a note lost
  that way would never send it again. Each running process keeps a mark in `sync-running/`,
  locked while it runs and removed when it stops cleanly; a mark nobody holds at start-up
  means a process stopped without closing;
- couchdb backend: a `_local` document in the system database, which CouchDB's replication
  never copies, so a cluster refilled by replication gets a new one. A CouchDB restored from
  copies of its database files keeps the old one: delete the document after such a restore
  (README, "Backups").
An existing data folder without the id also gets a new one: devices start over once after the
upgrade that brought this in.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path

from sync.errors import Conflict, NotFound
from sync.store import Database

HISTORY_FILE = "sync-history"
RUNNING_DIR = "sync-running"
HISTORY_DOC = "_local/branchline-sync-history"


def tenant_uuid(tenant_id: str, history: str) -> str:
    """The tenant's server `uuid`: stable for one history of its data, on every instance and
    process; it tells nothing about whether the tenant exists."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"branchline:tenant:{tenant_id}:history:{history}").hex


def _new_id() -> str:
    return secrets.token_hex(12)


def _write_new(path: Path) -> str:
    """A new id in `path`, in one step: written and flushed to disk under another name first
    (never a half-written or empty file, even after a power cut), then put in place."""
    history = _new_id()
    staged = path.with_name(f"{HISTORY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    with open(staged, "w", encoding="ascii") as f:
        f.write(history + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(staged, path)
    _sync_dir(path.parent)
    return history


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_history(data_dir: Path) -> str:
    """The embedded backend's id, read, or created if the folder has none. Call it under the
    folder's start-up lock (`start_file_history`), or where nothing else starts."""
    path = Path(data_dir) / HISTORY_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        text = ""
    if not text:  # none yet (or emptied by hand): a new history
        path.parent.mkdir(parents=True, exist_ok=True)
        return _write_new(path)
    return text


def start_file_history(data_dir: Path) -> tuple[str, Callable[[], None]]:
    """At a server process's start: the folder's history id (a new one if a process stopped
    without closing), and the `close` to call when this process stops cleanly.

    Processes starting together on one folder take turns here (a lock file), so they agree;
    each then holds its own mark's lock for as long as it runs. The kernel releases a lock
    when its process dies however it dies, so a mark that can be locked is a process gone."""
    data_dir = Path(data_dir)
    running = data_dir / RUNNING_DIR
    running.mkdir(parents=True, exist_ok=True)
    with open(data_dir / f"{HISTORY_FILE}.lock", "a") as turn:
        fcntl.flock(turn, fcntl.LOCK_EX)
        stopped_uncleanly = False
        for mark in sorted(running.iterdir()):
            try:
                fd = os.open(mark, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process runs
            else:
                stopped_uncleanly = True
                mark.unlink(missing_ok=True)
            finally:
                os.close(fd)
        history = _write_new(data_dir / HISTORY_FILE) if stopped_uncleanly else file_history(data_dir)
        mine = running / f"{os.getpid()}-{secrets.token_hex(4)}"
        held = os.open(mine, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(held, fcntl.LOCK_EX)
    closed = False

    def close() -> None:
        nonlocal closed
        if not closed:
            closed = True
            mine.unlink(missing_ok=True)
            os.close(held)

    return history, close


def forget_file_history(data_dir: Path) -> None:
    """Make the next start of a server on `data_dir` begin a new history (a restore)."""
    (Path(data_dir) / HISTORY_FILE).unlink(missing_ok=True)


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
