"""The embedded backend: CouchDB's document and revision model on SQLite.

One SQLite file per database (`<data_dir>/dbs/<name>.sqlite`) in WAL mode with
`synchronous=NORMAL`: a committed transaction survives the process being killed (WAL frames
are in the OS before COMMIT returns); only a power cut may lose the last few commits.

Each database has one connection guarded by a lock, because the HTTP layer calls us from
a thread pool and a single writer is what SQLite wants anyway. A `_bulk_docs` batch is one
transaction, so a batch of 100 documents costs one commit, not 100.

Tables:

- `docs`: one row per document: its rev tree (compact JSON), winning rev, whether the
  winner is deleted, and its `seq` (the last change; a document appears once in `_changes`).
- `bodies`: the body of every leaf revision. Bodies of revisions that stop being leaves
  are dropped at once, as CouchDB's compaction would, so storage stays proportional to the
  open branches rather than to the edit history.
- `attachments`: attachment bytes by `md5-<base64>` digest, shared by every revision that
  carries the same content.
- `local_docs`: `_local/` documents (replication checkpoints), never in `_changes`.
- `meta`: `update_seq`, `revs_limit`, and `doc_count` / `doc_del_count`, kept up to date in
  the same transaction as every write so `GET /db` (which a replicating PouchDB asks once per
  batch) and `_all_docs`'s `total_rows` never count the documents table.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

import logging

import orjson

from . import revtree
from .errors import BadRequest, BranchlineError, Conflict, NotFound, PreconditionFailed
from .naming import REPLICATION_MEMBERS, SPECIAL_MEMBERS
from .mango import compile_selector
from .private_files import private_dir, private_file, private_sqlite
from .store import Doc, Seq

_log = logging.getLogger(__name__)

# CouchDB's database-name rule without `/`; long enough for `t_<tenant>_<logical>`.
_DB_NAME = re.compile(r"^[a-z][a-z0-9_$()+-]{0,254}$")
DEFAULT_REVS_LIMIT = 1000
_BUSY_TIMEOUT_MS = 30_000
_CHUNK = 500  # SQLite's variable limit is far above; this keeps statements small.

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    winner TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    tree BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bodies (
    id TEXT NOT NULL,
    rev TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (id, rev)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attachments (digest TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS local_docs (id TEXT PRIMARY KEY, rev INTEGER NOT NULL, body BLOB NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('update_seq', 0), ('revs_limit', 1000);
"""
# Databases written before the counts were kept get them once, in one statement (atomic
# against another process writing the same file).
_COUNTS_SQL = """
INSERT OR IGNORE INTO meta (key, value)
SELECT 'doc_count', COALESCE(SUM(deleted = 0), 0) FROM docs
UNION ALL SELECT 'doc_del_count', COALESCE(SUM(deleted = 1), 0) FROM docs
"""


def check_db_name(name: Any) -> str:
    """Validate a physical database name (e.g. `branchline_system`, `t_abc123_sessions`)."""
    if not isinstance(name, str) or not _DB_NAME.match(name):
        raise BadRequest(
            f"Database name {name!r} is not allowed: use lowercase letters, digits and _$()+- "
            "starting with a letter.",
            error="illegal_database_name",
        )
    return name


def attachment_digest(data: bytes) -> str:
    """CouchDB's attachment digest: `md5-` and the base64 of the MD5 of the bytes."""
    return "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def parse_seq(since: Any, current: int) -> int:
    """Turn a `since` value into an integer; accepts ints, digit strings, `"N-..."`, `"now"`."""
    if since is None or since == "":
        return 0
    if since == "now":
        return current
    if isinstance(since, bool):
        raise BadRequest(f"Invalid since value {since!r}.")
    if isinstance(since, int):
        return max(since, 0)
    if isinstance(since, float) and since.is_integer():
        return max(int(since), 0)
    if isinstance(since, str):
        head = since.split("-", 1)[0]
        if head.isdigit():
            return int(head)
    raise BadRequest(f"Invalid since value {since!r}: pass back a seq this database returned.")


def _not_found(reason: str = "missing") -> NotFound:
    return NotFound(reason)


def _check_docid(docid: Any) -> str:
    if not isinstance(docid, str) or not docid:
        raise BadRequest("Document id must be a non-empty string.", error="illegal_docid")
    if docid.startswith("_") and not docid.startswith(("_design/", "_local/")):
        raise BadRequest(
            f"Document id {docid!r} is not allowed: only _design/ and _local/ ids may start "
            "with an underscore.",
            error="illegal_docid",
        )
    return docid


def _decode_base64(name: str, data: Any) -> bytes:
    if not isinstance(data, str):
        raise BadRequest(f"Attachment {name!r}: data must be a base64 string.")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"Attachment {name!r}: data is not valid base64.") from None


def _split_body(doc: Doc) -> Doc:
    """The stored part of a document: user fields plus `_attachments` (added later)."""
    body = {key: value for key, value in doc.items()
            if key[:1] != "_" or key in REPLICATION_MEMBERS}
    if len(body) < len(doc) and not (doc.keys() - body.keys()) <= SPECIAL_MEMBERS:
        bad = next(key for key in doc if key[:1] == "_" and key not in SPECIAL_MEMBERS)
        raise BadRequest(f"Bad special document member: {bad}", error="doc_validation")
    return body


# --- non-blocking mode -------------------------------------------------------------------
# The HTTP layer may run a short read on the event loop instead of handing it to a worker
# thread (a replication makes hundreds of such requests and each hand-off costs more than
# the read). On the event loop nothing may wait: in non-blocking mode a lock held by another
# thread, or a database not opened yet, raises `WouldBlock`, and the caller runs the request
# on a worker thread instead. Reads, `_local` writes and small `_bulk_docs` batches are run
# this way, and a write refuses before it starts (SQLite's write lock taken by another
# process), so starting over is harmless.
_mode = threading.local()


class WouldBlock(Exception):
    """A call in non-blocking mode would have had to wait."""


class _Lock:
    """A re-entrant lock that refuses to wait in non-blocking mode."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> "_Lock":
        if getattr(_mode, "nonblocking", False):
            if not self._lock.acquire(blocking=False):
                raise WouldBlock()
        else:
            self._lock.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._lock.release()


class _DocState:
    """The in-transaction view of one document while a batch is applied."""

    __slots__ = ("id", "tree", "winner", "deleted", "seq", "dirty", "was")

    def __init__(self, docid: str, tree: revtree.Tree, winner: str | None, deleted: bool,
                 seq: int | None) -> None:
        self.id = docid
        self.tree = tree
        self.winner = winner
        self.deleted = deleted
        self.seq = seq
        self.dirty = False
        # What the document counted as before this batch (None: it did not exist), so the
        # flush can adjust doc_count / doc_del_count by the difference.
        self.was: bool | None = deleted if tree else None


class _Batch:
    """The writes a batch accumulates, flushed with `executemany` in one transaction."""

    def __init__(self) -> None:
        self.bodies: dict[tuple[str, str], bytes] = {}
        self.drop_bodies: set[tuple[str, str]] = set()
        self.blobs: dict[str, bytes] = {}
        self.locals: dict[str, tuple[int, bytes] | None] = {}


class EmbeddedDatabase:
    """One CouchDB-style database in one SQLite file. Implements `sync.store.Database`."""

    def __init__(self, name: str, path: Path, notify: Callable[[str, int], None]) -> None:
        self.name = name
        self.path = path
        self._path_str = str(path)
        self._notify = notify
        self._lock = _Lock()
        self._closed = False
        # The timeout covers a second process on the same files (the `branchline` command
        # line while the server runs): it waits for the other writer instead of failing.
        private_sqlite(path)
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                               timeout=_BUSY_TIMEOUT_MS / 1000)
        conn.execute("PRAGMA journal_mode=WAL")
        private_sqlite(path)  # the WAL files of a database made before files were private
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-16000")
        conn.executescript(_SCHEMA)
        if conn.execute("SELECT 1 FROM meta WHERE key = 'doc_count'").fetchone() is None:
            conn.execute(_COUNTS_SQL)
        self._conn = conn
        self._revs_limit = int(self._meta("revs_limit"))

    # --- plumbing ----------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def _check_open(self) -> sqlite3.Connection:
        if self._closed:
            raise NotFound(f"Database {self.name!r} does not exist.", error="not_found")
        return self._conn

    def _meta(self, key: str) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _load_states(self, ids: Iterable[str]) -> dict[str, _DocState]:
        conn = self._conn
        ids = list(dict.fromkeys(ids))
        out: dict[str, _DocState] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for docid, seq, winner, deleted, tree in conn.execute(
                    f"SELECT id, seq, winner, deleted, tree FROM docs WHERE id IN ({marks})", chunk):
                out[docid] = _DocState(docid, revtree.loads(tree), winner, bool(deleted), seq)
        for docid in ids:
            if docid not in out:
                out[docid] = _DocState(docid, {}, None, False, None)
        return out

    def _load_rows(self, ids: list[str]) -> tuple[dict[str, tuple[revtree.Tree, str, bool, int]],
                                                   dict[tuple[str, str], bytes]]:
        """`_row` of many documents, and the bodies of their leaves (all that `bodies` holds)."""
        conn = self._conn
        ids = list(dict.fromkeys(ids))
        rows: dict[str, tuple[revtree.Tree, str, bool, int]] = {}
        bodies: dict[tuple[str, str], bytes] = {}
        # One read transaction, so trees and bodies come from the same snapshot even when
        # another process (the command line) writes in between.
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        try:
            for i in range(0, len(ids), _CHUNK):
                chunk = ids[i:i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for docid, tree, winner, deleted, seq in conn.execute(
                        f"SELECT id, tree, winner, deleted, seq FROM docs WHERE id IN ({marks})",
                        chunk):
                    rows[docid] = (revtree.loads(tree), winner, bool(deleted), seq)
                for docid, rev, body in conn.execute(
                        f"SELECT id, rev, body FROM bodies WHERE id IN ({marks})", chunk):
                    bodies[(docid, rev)] = body
        finally:
            if own:
                conn.execute("COMMIT")
        return rows, bodies

    def _row(self, docid: str) -> tuple[revtree.Tree, str, bool, int] | None:
        row = self._conn.execute(
            "SELECT tree, winner, deleted, seq FROM docs WHERE id = ?", (docid,)).fetchone()
        if row is None:
            return None
        return revtree.loads(row[0]), row[1], bool(row[2]), row[3]

    def _body(self, docid: str, rev: str, batch: _Batch | None = None) -> Doc | None:
        if batch is not None:
            pending = batch.bodies.get((docid, rev))
            if pending is not None:
                return orjson.loads(pending)
        row = self._conn.execute(
            "SELECT body FROM bodies WHERE id = ? AND rev = ?", (docid, rev)).fetchone()
        return orjson.loads(row[0]) if row else None

    def _blob(self, digest: str) -> bytes | None:
        row = self._conn.execute(
            "SELECT data FROM attachments WHERE digest = ?", (digest,)).fetchone()
        return row[0] if row else None

    # --- database ----------------------------------------------------------------------
    def info(self) -> Doc:
        """`GET /db`: counts, `update_seq` and sizes."""
        with self._lock:
            conn = self._check_open()
            meta = dict(conn.execute(
                "SELECT key, value FROM meta "
                "WHERE key IN ('update_seq', 'doc_count', 'doc_del_count')").fetchall())
        live, dead = int(meta["doc_count"]), int(meta["doc_del_count"])
        seq = int(meta["update_seq"])
        size = 0
        for suffix in ("", "-wal"):
            try:
                size += os.stat(self._path_str + suffix).st_size
            except OSError:
                pass
        return {
            "db_name": self.name, "doc_count": live, "doc_del_count": dead, "update_seq": seq,
            "purge_seq": 0, "compact_running": False, "disk_size": size, "data_size": size,
            "sizes": {"file": size, "active": size, "external": size},
            "instance_start_time": "0", "disk_format_version": 1, "committed_update_seq": seq,
        }

    def get_revs_limit(self) -> int:
        """How many revisions each branch keeps (CouchDB's `_revs_limit`, default 1000)."""
        with self._lock:
            self._check_open()
            return self._revs_limit

    def set_revs_limit(self, limit: int) -> None:
        """Set `_revs_limit`; applies to documents as they are next written."""
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise BadRequest("revs_limit must be a positive integer.")
        with self._lock:
            conn = self._check_open()
            conn.execute("UPDATE meta SET value = ? WHERE key = 'revs_limit'", (limit,))
            self._revs_limit = limit

    def compact(self) -> int:
        """Drop attachment content no stored revision refers to; returns how many went.

        Attachments are shared by digest, so their bytes cannot be removed when one
        revision goes; this sweep (run by a scheduled job) reclaims them.
        """
        with self._lock:
            conn = self._check_open()
            conn.execute("BEGIN IMMEDIATE")
            try:
                used: set[str] = set()
                for (blob,) in conn.execute("SELECT body FROM bodies WHERE instr(body, ?) > 0",
                                            (b'"_attachments"',)):
                    for meta in (orjson.loads(blob).get("_attachments") or {}).values():
                        used.add(meta["digest"])
                gone = [(d,) for (d,) in conn.execute("SELECT digest FROM attachments")
                        if d not in used]
                conn.executemany("DELETE FROM attachments WHERE digest = ?", gone)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return len(gone)

    @property
    def update_seq(self) -> Seq:
        """The seq of the latest change (0 for an empty database)."""
        with self._lock:
            self._check_open()
            return int(self._meta("update_seq"))

    # --- reading documents -------------------------------------------------------------
    def _render(self, docid: str, rev: str, tree: revtree.Tree, body: Doc, *,
                revs: bool = False, revs_info: bool = False, conflicts: bool = False,
                deleted_conflicts: bool = False, attachments: bool = False,
                atts_since: list[str] | None = None, winner: str | None = None,
                seq: int | None = None) -> Doc:
        doc: Doc = {"_id": docid, "_rev": rev}
        atts = body.pop("_attachments", None)
        doc.update(body)
        if tree[rev][1]:
            doc["_deleted"] = True
        if atts:
            doc["_attachments"] = self._render_attachments(tree, rev, atts, attachments,
                                                           atts_since)
        if conflicts or deleted_conflicts:
            live, dead = revtree.conflicts(tree, winner)
            if conflicts and live:
                doc["_conflicts"] = live
            if deleted_conflicts and dead:
                doc["_deleted_conflicts"] = dead
        if revs:
            doc["_revisions"] = revtree.revisions(tree, rev)
        if revs_info:
            info = []
            for i, r in enumerate(revtree.ancestry(tree, rev)):
                # Only leaves keep bodies here, so every ancestor reads as compacted.
                status = "deleted" if tree[r][1] else ("available" if i == 0 else "missing")
                info.append({"rev": r, "status": status})
            doc["_revs_info"] = info
        if seq is not None:
            doc["_local_seq"] = seq
        return doc

    def _render_attachments(self, tree: revtree.Tree, rev: str, atts: Doc, inline: bool,
                            atts_since: list[str] | None) -> Doc:
        cutoff = 0
        if inline and atts_since:
            # Data the client already holds: attachments no newer than the most recent
            # ancestor it names.
            chain = set(revtree.ancestry(tree, rev))
            known = [revtree.rev_pos(r) for r in atts_since
                     if isinstance(r, str) and r in chain]
            cutoff = max(known, default=0)
        out = {}
        for name, meta in atts.items():
            entry = {"content_type": meta["content_type"], "revpos": meta["revpos"],
                     "digest": meta["digest"]}
            if inline and meta["revpos"] > cutoff:
                # As CouchDB: inline data carries no `length` (only stubs do).
                data = self._blob(meta["digest"])
                entry["data"] = base64.b64encode(data or b"").decode("ascii")
            else:
                entry["length"] = meta["length"]
                entry["stub"] = True
            out[name] = entry
        return out

    def get(self, docid: str, *, rev: str | None = None, revs: bool = False,
            revs_info: bool = False, conflicts: bool = False, deleted_conflicts: bool = False,
            attachments: bool = False, atts_since: list[str] | None = None,
            latest: bool = False, local_seq: bool = False) -> Doc:
        """The winning revision (or `rev`). Raises NotFound (`missing` or `deleted`)."""
        if isinstance(docid, str) and docid.startswith("_local/"):
            return self.get_local(docid)
        with self._lock:
            self._check_open()
            row = self._row(docid) if isinstance(docid, str) else None
            return self._get_from(docid, row, self._body, rev=rev, revs=revs,
                                  revs_info=revs_info, conflicts=conflicts,
                                  deleted_conflicts=deleted_conflicts, attachments=attachments,
                                  atts_since=atts_since, latest=latest, local_seq=local_seq)

    def _get_from(self, docid: str, row: tuple[revtree.Tree, str, bool, int] | None,
                  body_of: Callable[[str, str], Doc | None], *, rev: str | None, revs: bool,
                  revs_info: bool, conflicts: bool, deleted_conflicts: bool, attachments: bool,
                  atts_since: list[str] | None, latest: bool, local_seq: bool) -> Doc:
        """`get` on a row already read (`body_of` reads a revision's body); lock held."""
        if row is None:
            raise _not_found("missing")
        tree, winner, deleted, seq = row
        if rev is None:
            if deleted:
                raise _not_found("deleted")
            target = winner
        else:
            revtree.parse_rev(rev)
            if rev not in tree:
                raise _not_found("missing")
            target = rev
            if latest:
                target = (revtree.descendant_leaves(tree, rev) or [rev])[0]
        body = body_of(docid, target)
        if body is None:
            raise _not_found("missing")
        return self._render(docid, target, tree, body, revs=revs, revs_info=revs_info,
                            conflicts=conflicts, deleted_conflicts=deleted_conflicts,
                            attachments=attachments, atts_since=atts_since, winner=winner,
                            seq=seq if local_seq else None)

    def get_open_revs(self, docid: str, open_revs: list[str] | Literal["all"], *,
                      revs: bool = False, attachments: bool = False,
                      atts_since: list[str] | None = None, latest: bool = False) -> list[Doc]:
        """`open_revs`: a list of `{"ok": doc}` or `{"missing": rev}` entries."""
        with self._lock:
            self._check_open()
            row = self._row(docid) if isinstance(docid, str) else None
            return self._open_revs_from(docid, row, self._body, open_revs, revs=revs,
                                        attachments=attachments, atts_since=atts_since,
                                        latest=latest)

    def _open_revs_from(self, docid: str, row: tuple[revtree.Tree, str, bool, int] | None,
                        body_of: Callable[[str, str], Doc | None],
                        open_revs: list[str] | Literal["all"], *, revs: bool, attachments: bool,
                        atts_since: list[str] | None, latest: bool) -> list[Doc]:
        """`get_open_revs` on a row already read; lock held."""
        if open_revs == "all":
            if row is None:
                raise _not_found("missing")
            wanted = revtree.leaves(row[0])
        elif isinstance(open_revs, list):
            for r in open_revs:
                revtree.parse_rev(r)
            wanted = list(open_revs)
        else:
            raise BadRequest("open_revs must be \"all\" or a list of revs.")
        out: list[Doc] = []
        seen: set[str] = set()
        for r in wanted:
            if row is None or r not in row[0]:
                out.append({"missing": r})
                continue
            tree = row[0]
            targets = revtree.descendant_leaves(tree, r) if latest else [r]
            for t in targets or [r]:
                if t in seen:
                    continue
                seen.add(t)
                body = body_of(docid, t)
                if body is None:
                    out.append({"missing": t})
                    continue
                out.append({"ok": self._render(docid, t, tree, body, revs=revs,
                                               attachments=attachments,
                                               atts_since=atts_since)})
        return out

    # --- writing documents -------------------------------------------------------------
    def put(self, doc: Doc, *, new_edits: bool = True) -> Doc:
        """Write one document. Returns `{"ok": True, "id", "rev"}`; raises Conflict."""
        result = self._write([doc], new_edits)[0]
        if isinstance(result, BranchlineError):
            raise result
        return result

    def delete(self, docid: str, rev: str) -> Doc:
        """Write a tombstone on top of `rev` (any current leaf)."""
        if isinstance(docid, str) and docid.startswith("_local/"):
            return self.delete_local(docid, rev)
        if rev is None:
            raise Conflict("Document update conflict: deleting needs the current _rev.")
        return self.put({"_id": docid, "_rev": rev, "_deleted": True})

    def bulk_docs(self, docs: list[Doc], *, new_edits: bool = True) -> list[Doc]:
        """`_bulk_docs`: one result per input, `{ok, id, rev}` or `{id, error, reason}`.

        Atomic per document, one transaction for the whole batch.
        """
        if not isinstance(docs, list):
            raise BadRequest("docs must be a list of documents.")
        out = []
        for doc, result in zip(docs, self._write(docs, new_edits)):
            if isinstance(result, BranchlineError):
                entry: Doc = {"id": doc.get("_id") if isinstance(doc, dict) else None,
                              "error": result.error, "reason": result.reason}
                if isinstance(doc, dict) and "_rev" in doc and not new_edits:
                    entry["rev"] = doc["_rev"]
                out.append(entry)
            else:
                out.append(result)
        return out

    def _write(self, docs: list[Any], new_edits: bool) -> list[Any]:
        """Apply a batch in one transaction; per document a result dict or an exception."""
        ids = []
        for doc in docs:
            if isinstance(doc, dict) and isinstance(doc.get("_id"), str):
                ids.append(doc["_id"])
        with self._lock:
            conn = self._check_open()
            results: list[Any] = []
            self._begin_write(conn)
            try:
                states = self._load_states(i for i in ids if not i.startswith("_local/"))
                seq = int(self._meta("update_seq"))
                start_seq = seq
                batch = _Batch()
                for doc in docs:
                    try:
                        if not isinstance(doc, dict):
                            raise BadRequest("Each document must be a JSON object.")
                        docid = doc.get("_id")
                        if docid is None and new_edits:
                            docid = uuid.uuid4().hex
                        _check_docid(docid)
                        if docid.startswith("_local/"):
                            results.append(self._write_local(doc, docid, batch))
                            continue
                        state = states.get(docid)
                        if state is None:
                            state = states[docid] = _DocState(docid, {}, None, False, None)
                        if new_edits:
                            rev = self._apply_edit(state, doc, batch)
                        else:
                            rev = self._apply_replicated(state, doc, batch)
                        if state.dirty:
                            # Every applied edit takes a fresh seq; a document edited twice
                            # in one batch simply leaves a gap.
                            seq += 1
                            state.seq = seq
                            state.dirty = False
                        results.append({"ok": True, "id": docid, "rev": rev})
                    except BranchlineError as exc:
                        results.append(exc)
                changed = [s for s in states.values() if s.seq is not None and s.seq > start_seq]
                self._flush(conn, changed, batch, seq, start_seq)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        if seq != start_seq:
            self._notify(self.name, seq)
        return results

    @staticmethod
    def _begin_write(conn: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE; in non-blocking mode, `WouldBlock` if another process writes."""
        if not getattr(_mode, "nonblocking", False):
            conn.execute("BEGIN IMMEDIATE")
            return
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            raise WouldBlock() from None  # the worker thread will wait (or report it)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")

    def _flush(self, conn: sqlite3.Connection, changed: list[_DocState], batch: _Batch,
               seq: int, start_seq: int) -> None:
        if batch.drop_bodies:
            conn.executemany("DELETE FROM bodies WHERE id = ? AND rev = ?",
                             [k for k in batch.drop_bodies if k not in batch.bodies])
        if batch.bodies:
            conn.executemany("INSERT OR REPLACE INTO bodies (id, rev, body) VALUES (?, ?, ?)",
                             [(k[0], k[1], v) for k, v in batch.bodies.items()])
        if batch.blobs:
            conn.executemany("INSERT OR IGNORE INTO attachments (digest, data) VALUES (?, ?)",
                             list(batch.blobs.items()))
        if changed:
            conn.executemany(
                "INSERT INTO docs (id, seq, winner, deleted, tree) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, winner = excluded.winner, "
                "deleted = excluded.deleted, tree = excluded.tree",
                [(s.id, s.seq, s.winner, 1 if s.deleted else 0, revtree.dumps(s.tree))
                 for s in changed])
        for docid, value in batch.locals.items():
            if value is None:
                conn.execute("DELETE FROM local_docs WHERE id = ?", (docid,))
            else:
                conn.execute("INSERT OR REPLACE INTO local_docs (id, rev, body) VALUES (?, ?, ?)",
                             (docid, value[0], value[1]))
        if changed:
            live = dead = 0
            for s in changed:
                if s.was is not None:
                    live -= not s.was
                    dead -= s.was
                live += not s.deleted
                dead += s.deleted
            if live:
                conn.execute("UPDATE meta SET value = value + ? WHERE key = 'doc_count'", (live,))
            if dead:
                conn.execute("UPDATE meta SET value = value + ? WHERE key = 'doc_del_count'",
                             (dead,))
        if seq != start_seq:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'update_seq'", (seq,))

    def _commit_tree(self, state: _DocState, tree: revtree.Tree, batch: _Batch) -> None:
        tree = revtree.stem(tree, self._revs_limit)
        if state.tree:  # a new document has no old leaves whose bodies could go
            for rev in revtree.leaf_set(state.tree) - revtree.leaf_set(tree):
                batch.drop_bodies.add((state.id, rev))
                batch.bodies.pop((state.id, rev), None)
        state.tree = tree
        # One revision (most new documents) needs no search for the winner.
        state.winner = next(iter(tree)) if len(tree) == 1 else revtree.winning_rev(tree)
        state.deleted = bool(tree[state.winner][1])
        state.dirty = True

    def _apply_edit(self, state: _DocState, doc: Doc, batch: _Batch) -> str:
        body = _split_body(doc)
        deleted = bool(doc.get("_deleted"))
        rev = doc.get("_rev")
        if rev is not None:
            revtree.parse_rev(rev)
        tree = state.tree
        if not tree:
            if rev is not None:
                raise Conflict("Document update conflict: the document does not exist, "
                               "so _rev must be left out.")
            parent = None
        elif rev is None:
            if not state.deleted:
                raise Conflict("Document update conflict: the document exists; send its "
                               "current _rev.")
            parent = state.winner  # re-creating a deleted document continues its history
        else:
            if rev not in tree or rev not in revtree.leaves(tree):
                raise Conflict(f"Document update conflict: {rev} is not a current revision "
                               "of this document; fetch it again and reapply the edit.")
            parent = rev
        new_pos = revtree.rev_pos(parent) + 1 if parent else 1
        atts = self._edit_attachments(state.id, parent, doc.get("_attachments"), new_pos, batch)
        new_rev = revtree.new_rev(parent, deleted, body,
                                  [(name, a["digest"]) for name, a in atts.items()])
        if atts:
            body["_attachments"] = atts
        new_tree = {r: list(n) for r, n in tree.items()}
        new_tree[new_rev] = [parent, deleted]
        batch.bodies[(state.id, new_rev)] = revtree.encode(body)
        self._commit_tree(state, new_tree, batch)
        return new_rev

    def _edit_attachments(self, docid: str, parent: str | None, atts: Any, new_pos: int,
                          batch: _Batch) -> Doc:
        if not atts:
            return {}
        if not isinstance(atts, dict):
            raise BadRequest("_attachments must be an object of name: attachment.")
        parent_atts: Doc | None = None
        out: Doc = {}
        for name, att in atts.items():
            if not isinstance(att, dict):
                raise BadRequest(f"Attachment {name!r} must be an object.")
            if att.get("stub"):
                if parent_atts is None:
                    parent_body = self._body(docid, parent, batch) if parent else None
                    parent_atts = (parent_body or {}).get("_attachments") or {}
                prior = parent_atts.get(name)
                if prior is None:
                    raise PreconditionFailed(
                        f"Attachment stub {name!r} does not match an attachment of the "
                        "revision being edited; send the data instead.", error="missing_stub")
                out[name] = prior
            elif "data" in att:
                data = _decode_base64(name, att["data"])
                out[name] = self._new_blob(data, att, new_pos, batch)
            else:
                raise BadRequest(f"Attachment {name!r} needs base64 `data` or `stub: true`.")
        return out

    @staticmethod
    def _new_blob(data: bytes, att: Doc, revpos: int, batch: _Batch) -> Doc:
        digest = attachment_digest(data)
        batch.blobs[digest] = data
        content_type = att.get("content_type") or "application/octet-stream"
        if not isinstance(content_type, str):
            raise BadRequest("Attachment content_type must be a string.")
        return {"content_type": content_type, "digest": digest, "length": len(data),
                "revpos": revpos}

    def _apply_replicated(self, state: _DocState, doc: Doc, batch: _Batch) -> str:
        rev = doc.get("_rev")
        if rev is None:
            raise BadRequest("A document written with new_edits=false needs a _rev.")
        path = revtree.path_from_revisions(rev, doc.get("_revisions"))
        body = _split_body(doc)
        deleted = bool(doc.get("_deleted"))
        if rev in state.tree:
            # Already known: nothing to store, no new seq (but a longer history may still
            # link a stemmed root to its parent).
            merged, changed = revtree.merge(state.tree, path, deleted)
            if changed and revtree.stem(merged, self._revs_limit) != state.tree:
                self._commit_tree(state, merged, batch)
            return rev
        atts = self._replicated_attachments(doc.get("_attachments"), rev, batch)
        if atts:
            body["_attachments"] = atts
        merged, _ = revtree.merge(state.tree, path, deleted)
        batch.bodies[(state.id, rev)] = revtree.encode(body)
        self._commit_tree(state, merged, batch)
        return rev

    def _replicated_attachments(self, atts: Any, rev: str, batch: _Batch) -> Doc:
        if not atts:
            return {}
        pos = revtree.rev_pos(rev)
        if not isinstance(atts, dict):
            raise BadRequest("_attachments must be an object of name: attachment.")
        out: Doc = {}
        for name, att in atts.items():
            if not isinstance(att, dict):
                raise BadRequest(f"Attachment {name!r} must be an object.")
            revpos = att.get("revpos") if isinstance(att.get("revpos"), int) else pos
            if att.get("stub"):
                digest = att.get("digest")
                data = batch.blobs.get(digest) if isinstance(digest, str) else None
                if data is None and isinstance(digest, str):
                    data = self._blob(digest)
                if data is None:
                    raise PreconditionFailed(
                        f"Attachment stub {name!r} refers to content this database does not "
                        "hold; send the data.", error="missing_stub")
                out[name] = {"content_type": att.get("content_type") or
                             "application/octet-stream", "digest": digest,
                             "length": len(data), "revpos": revpos}
            elif "data" in att:
                out[name] = self._new_blob(_decode_base64(name, att["data"]), att, revpos, batch)
            else:
                raise BadRequest(f"Attachment {name!r} needs base64 `data` or `stub: true`.")
        return out

    # --- multi-document reads ----------------------------------------------------------
    def bulk_get(self, requests: list[Doc], *, revs: bool = False, attachments: bool = False,
                 latest: bool = False) -> list[Doc]:
        """`_bulk_get` results: `[{"id", "docs": [{"ok": doc} | {"error": {...}}]}]`."""
        if not isinstance(requests, list):
            raise BadRequest("docs must be a list of {id, rev?} objects.")
        out = []
        with self._lock:
            self._check_open()
            # Every tree and leaf body the batch needs, in two statements instead of two
            # per document (a replicator asks for 100 documents at a time).
            ids = [r["id"] for r in requests if isinstance(r, dict) and isinstance(r.get("id"), str)
                   and r["id"] and not r["id"].startswith("_local/")]
            rows, bodies = self._load_rows(ids)

            def body_of(docid: str, rev: str) -> Doc | None:
                raw = bodies.get((docid, rev))
                return orjson.loads(raw) if raw is not None else None

            for req in requests:
                docid = req.get("id") if isinstance(req, dict) else None
                rev = req.get("rev") if isinstance(req, dict) else None
                atts_since = req.get("atts_since") if isinstance(req, dict) else None

                def error(err: str, reason: str, r: Any = rev) -> Doc:
                    return {"error": {"id": docid, "rev": r, "error": err, "reason": reason}}

                if not isinstance(docid, str) or not docid:
                    out.append({"id": docid, "docs": [error("bad_request",
                                                            "Each request needs an id.")]})
                    continue
                row = rows.get(docid)
                if (isinstance(rev, str) and row is not None and not attachments
                        and atts_since is None):
                    # The replicator's request, answered without the general machinery:
                    # one stored leaf revision (only leaves keep bodies) with no
                    # attachments. Anything else takes the general path below.
                    tree = row[0]
                    node = tree.get(rev)
                    raw = bodies.get((docid, rev))
                    if (node is not None and raw is not None and b'"_attachments"' not in raw
                            and (not latest or len(tree) == 1 or revtree.is_leaf(tree, rev))):
                        doc = {"_id": docid, "_rev": rev}
                        doc.update(orjson.loads(raw))
                        if node[1]:
                            doc["_deleted"] = True
                        if revs:
                            doc["_revisions"] = revtree.revisions(tree, rev)
                        out.append({"id": docid, "docs": [{"ok": doc}]})
                        continue
                try:
                    if rev is None and docid.startswith("_local/"):
                        docs = [{"ok": self.get(docid, revs=revs, attachments=attachments,
                                                atts_since=atts_since)}]
                    elif rev is None:
                        docs = [{"ok": self._get_from(
                            docid, row, body_of, rev=None, revs=revs,
                            revs_info=False, conflicts=False, deleted_conflicts=False,
                            attachments=attachments, atts_since=atts_since, latest=False,
                            local_seq=False)}]
                    else:
                        docs = []
                        for entry in self._open_revs_from(docid, row, body_of, [rev],
                                                          revs=revs,
                                                          attachments=attachments,
                                                          atts_since=atts_since, latest=latest):
                            if "missing" in entry:
                                docs.append(error("not_found", "missing", entry["missing"]))
                            else:
                                docs.append(entry)
                except BranchlineError as exc:
                    docs = [error(exc.error, exc.reason)]
                out.append({"id": docid, "docs": docs})
        return out

    def revs_diff(self, revs: dict[str, list[str]]) -> dict[str, Doc]:
        """`{id: {"missing": [...], "possible_ancestors": [...]}}` for ids with missing revs."""
        if not isinstance(revs, dict):
            raise BadRequest("_revs_diff takes an object of id: [revs].")
        out: dict[str, Doc] = {}
        with self._lock:
            self._check_open()
            states = self._load_states(revs.keys())
            for docid, wanted in revs.items():
                if not isinstance(wanted, list):
                    raise BadRequest(f"_revs_diff: revs of {docid!r} must be a list.")
                tree = states[docid].tree
                missing = [r for r in dict.fromkeys(wanted) if r not in tree]
                if not missing:
                    continue
                entry: Doc = {"missing": missing}
                positions = []
                for r in missing:
                    try:
                        positions.append(revtree.parse_rev(r)[0])
                    except BadRequest:
                        pass
                if tree and positions:
                    top = max(positions)
                    ancestors = [leaf for leaf in revtree.leaves(tree)
                                 if revtree.rev_pos(leaf) < top]
                    if ancestors:
                        entry["possible_ancestors"] = ancestors
                out[docid] = entry
        return out

    def all_docs(self, *, keys: list[str] | None = None, startkey: str | None = None,
                 endkey: str | None = None, inclusive_end: bool = True,
                 limit: int | None = None, skip: int = 0, descending: bool = False,
                 include_docs: bool = False, conflicts: bool = False,
                 attachments: bool = False, update_seq: bool = False) -> Doc:
        """`{"total_rows", "offset", "rows": [{"id", "key", "value": {"rev"}, "doc"?}]}`."""
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise BadRequest("limit must be a non-negative integer.")
        if not isinstance(skip, int) or skip < 0:
            raise BadRequest("skip must be a non-negative integer.")
        with self._lock:
            conn = self._check_open()
            total = int(self._meta("doc_count"))
            rows: list[Doc] = []
            if keys is not None:
                if not isinstance(keys, list):
                    raise BadRequest("keys must be a list of document ids.")
                ordered = list(reversed(keys)) if descending else list(keys)
                ordered = ordered[skip:]
                if limit is not None:
                    ordered = ordered[:limit]
                states = self._load_states(k for k in ordered if isinstance(k, str))
                for key in ordered:
                    state = states.get(key) if isinstance(key, str) else None
                    if state is None or not state.tree:
                        rows.append({"key": key, "error": "not_found"})
                        continue
                    row: Doc = {"id": key, "key": key, "value": {"rev": state.winner}}
                    if state.deleted:
                        row["value"]["deleted"] = True
                        if include_docs:
                            row["doc"] = None
                    elif include_docs:
                        row["doc"] = self._winner_doc(state.id, state.tree, state.winner,
                                                      conflicts, attachments)
                    rows.append(row)
                offset = 0
            else:
                where, params = ["deleted = 0"], []
                lo_op, hi_op = (">=", "<=" if inclusive_end else "<")
                if descending:
                    if startkey is not None:
                        where.append("id <= ?")
                        params.append(startkey)
                    if endkey is not None:
                        where.append("id >= ?" if inclusive_end else "id > ?")
                        params.append(endkey)
                else:
                    if startkey is not None:
                        where.append(f"id {lo_op} ?")
                        params.append(startkey)
                    if endkey is not None:
                        where.append(f"id {hi_op} ?")
                        params.append(endkey)
                order = "DESC" if descending else "ASC"
                sql = (f"SELECT d.id, d.winner, d.tree, b.body FROM docs d "
                       f"LEFT JOIN bodies b ON b.id = d.id AND b.rev = d.winner "
                       if include_docs else "SELECT d.id, d.winner, NULL, NULL FROM docs d ")
                sql += "WHERE " + " AND ".join(f"d.{w}" for w in where)
                sql += f" ORDER BY d.id {order} LIMIT ? OFFSET ?"
                params += [-1 if limit is None else limit, skip]
                for docid, winner, tree_blob, body_blob in conn.execute(sql, params):
                    row = {"id": docid, "key": docid, "value": {"rev": winner}}
                    if include_docs:
                        tree = revtree.loads(tree_blob)
                        body = orjson.loads(body_blob) if body_blob else {}
                        row["doc"] = self._render(docid, winner, tree, body, conflicts=conflicts,
                                                  attachments=attachments, winner=winner)
                    rows.append(row)
                if startkey is None:
                    before = 0
                else:
                    cmp = ">" if descending else "<"
                    before = conn.execute(
                        f"SELECT COUNT(*) FROM docs WHERE deleted = 0 AND id {cmp} ?",
                        (startkey,)).fetchone()[0]
                offset = min(before + skip, total)
            out: Doc = {"total_rows": total, "offset": offset, "rows": rows}
            if update_seq:
                out["update_seq"] = int(self._meta("update_seq"))
            return out

    def _winner_doc(self, docid: str, tree: revtree.Tree, winner: str, conflicts: bool,
                    attachments: bool) -> Doc | None:
        body = self._body(docid, winner)
        if body is None:
            return None
        return self._render(docid, winner, tree, body, conflicts=conflicts,
                            attachments=attachments, winner=winner)

    def changes(self, *, since: Seq = 0, limit: int | None = None, descending: bool = False,
                style: Literal["main_only", "all_docs"] = "main_only",
                include_docs: bool = False, conflicts: bool = False, attachments: bool = False,
                doc_ids: Iterable[str] | None = None, selector: Doc | None = None) -> Doc:
        """`{"results": [{"seq", "id", "changes", "deleted"?, "doc"?}], "last_seq", "pending"}`.

        One row per document, at its latest seq. With a filter (`doc_ids`, `selector`) and
        no `limit` cut, `last_seq` is the current update_seq, so a client does not rescan
        the changes it was not sent.
        """
        if style not in ("main_only", "all_docs"):
            raise BadRequest("style must be main_only or all_docs.")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise BadRequest("limit must be a non-negative integer.")
        match = compile_selector(selector) if selector is not None else None
        id_filter = None
        if doc_ids is not None:
            if isinstance(doc_ids, str):
                raise BadRequest("doc_ids must be a list of document ids.")
            id_filter = set(doc_ids)
        need_body = include_docs or match is not None
        need_tree = need_body or style == "all_docs"  # main_only rows need only the winner
        with self._lock:
            conn = self._check_open()
            current = int(self._meta("update_seq"))
            since_n = parse_seq(since, current)
            cols = ("d.seq, d.id, d.winner, d.deleted, d.tree, "
                    + ("b.body FROM docs d LEFT JOIN bodies b ON b.id = d.id AND b.rev = d.winner"
                       if need_body else "NULL FROM docs d"))
            params: list[Any] = []
            where = ""
            if id_filter is not None and len(id_filter) <= _CHUNK:
                where = f" AND d.id IN ({','.join('?' * len(id_filter))})"
                params += list(id_filter)
            if descending:
                sql = f"SELECT {cols} WHERE 1{where} ORDER BY d.seq DESC"
            else:
                sql = f"SELECT {cols} WHERE d.seq > ?{where} ORDER BY d.seq"
                params.insert(0, since_n)
            results: list[Doc] = []
            last = None
            cut = False
            if limit == 0:
                cut = True
            else:
                for seq, docid, winner, deleted, tree_blob, body_blob in conn.execute(sql, params):
                    if id_filter is not None and docid not in id_filter:
                        continue
                    # A one-revision tree (most documents) is `{"rev":[null,0]}`: its only
                    # leaf is the winner, so all_docs rows need not parse it.
                    tree = (revtree.loads(tree_blob)
                            if need_body or (need_tree and b"]," in tree_blob) else None)
                    doc = None
                    if need_body:
                        body = orjson.loads(body_blob) if body_blob else {}
                        doc = self._render(docid, winner, tree, body, conflicts=conflicts,
                                           attachments=attachments, winner=winner)
                        if match is not None and not match(doc):
                            continue
                    if style == "all_docs" and tree is not None and len(tree) > 1:
                        revs = revtree.leaves(tree)
                        if revs[0] != winner:
                            revs.remove(winner)
                            revs.insert(0, winner)
                    else:
                        revs = [winner]  # a one-revision tree's only leaf is its winner
                    row: Doc = {"seq": seq, "id": docid, "changes": [{"rev": r} for r in revs]}
                    if deleted:
                        row["deleted"] = True
                    if include_docs:
                        row["doc"] = doc
                    results.append(row)
                    last = seq
                    if limit is not None and len(results) >= limit:
                        cut = True
                        break
            if descending:
                last_seq = last if last is not None else current
                pending = conn.execute("SELECT COUNT(*) FROM docs WHERE seq < ?",
                                       (last_seq,)).fetchone()[0] if cut else 0
            elif cut:
                last_seq = last if last is not None else since_n
                pending = conn.execute("SELECT COUNT(*) FROM docs WHERE seq > ?",
                                       (last_seq,)).fetchone()[0]
            else:
                last_seq = max(current, since_n)
                pending = 0
            return {"results": results, "last_seq": last_seq, "pending": pending}

    # --- _local documents --------------------------------------------------------------
    @staticmethod
    def _local_id(docid: Any) -> str:
        if not isinstance(docid, str) or not docid:
            raise BadRequest("Document id must be a non-empty string.", error="illegal_docid")
        return docid if docid.startswith("_local/") else "_local/" + docid

    def get_local(self, docid: str) -> Doc:
        """A `_local/` document (with or without the prefix in `docid`)."""
        docid = self._local_id(docid)
        with self._lock:
            conn = self._check_open()
            row = conn.execute("SELECT rev, body FROM local_docs WHERE id = ?",
                               (docid,)).fetchone()
        if row is None:
            raise _not_found("missing")
        doc = {"_id": docid, "_rev": f"0-{row[0]}"}
        doc.update(orjson.loads(row[1]))
        return doc

    def put_local(self, doc: Doc) -> Doc:
        """Write a `_local/` document; its `_rev` must match the stored one (`0-N`)."""
        if not isinstance(doc, dict):
            raise BadRequest("A document must be a JSON object.")
        docid = self._local_id(doc.get("_id"))
        return self.put({**doc, "_id": docid})

    def delete_local(self, docid: str, rev: str | None) -> Doc:
        """Remove a `_local/` document; `rev`, when given, must be the current one."""
        docid = self._local_id(docid)
        with self._lock:
            if rev is None:
                rev = self.get_local(docid)["_rev"]
            return self.put({"_id": docid, "_rev": rev, "_deleted": True})

    def _write_local(self, doc: Doc, docid: str, batch: _Batch) -> Doc:
        if docid in batch.locals:
            current = batch.locals[docid]
            cur_rev = current[0] if current else None
        else:
            row = self._conn.execute("SELECT rev FROM local_docs WHERE id = ?",
                                     (docid,)).fetchone()
            cur_rev = row[0] if row else None
        given = doc.get("_rev")
        expected = f"0-{cur_rev}" if cur_rev is not None else None
        if given is not None and not (isinstance(given, str) and given.startswith("0-")):
            raise BadRequest(f"Invalid rev {given!r} for a _local document: they look "
                             "like '0-N'.")
        if given != expected:
            raise Conflict("Document update conflict: send the _local document's current "
                           "_rev.")
        if doc.get("_deleted"):
            if cur_rev is None:
                raise _not_found("missing")
            batch.locals[docid] = None
            return {"ok": True, "id": docid, "rev": "0-0"}
        body = {k: v for k, v in doc.items() if not k.startswith("_")}
        new = (cur_rev or 0) + 1
        batch.locals[docid] = (new, revtree.encode(body))
        return {"ok": True, "id": docid, "rev": f"0-{new}"}

    # --- attachments -------------------------------------------------------------------
    def get_attachment(self, docid: str, name: str, *,
                       rev: str | None = None) -> tuple[bytes, str, str]:
        """`(data, content_type, digest)` of an attachment, from any revision incl. losers."""
        with self._lock:
            self._check_open()
            row = self._row(docid) if isinstance(docid, str) else None
            if row is None:
                raise _not_found("missing")
            tree, winner, deleted, _ = row
            if rev is None:
                if deleted:
                    raise _not_found("deleted")
                rev = winner
            elif rev not in tree:
                revtree.parse_rev(rev)
                raise _not_found("missing")
            body = self._body(docid, rev) or {}
            meta = (body.get("_attachments") or {}).get(name)
            if meta is None:
                raise NotFound(f"Document is missing attachment {name!r}.")
            data = self._blob(meta["digest"])
            if data is None:
                raise NotFound(f"Attachment {name!r} content is missing.")
            return data, meta["content_type"], meta["digest"]

    def _edit_base(self, docid: str, rev: str | None) -> Doc:
        """The document an attachment edit builds on, with its attachments as stubs."""
        try:
            doc = self.get(docid, rev=rev) if rev is not None else None
        except NotFound:
            raise Conflict("Document update conflict: that revision is not current.") from None
        if doc is None:
            return {"_id": docid}
        for meta in (doc.get("_attachments") or {}).values():
            meta["stub"] = True
        doc.pop("_deleted", None)
        return doc

    def put_attachment(self, docid: str, name: str, data: bytes, content_type: str, *,
                       rev: str | None) -> Doc:
        """Add or replace one attachment, creating the document when `rev` is None."""
        if not isinstance(name, str) or not name or name.startswith("_"):
            raise BadRequest("Attachment names must be non-empty and not start with '_'.")
        doc = self._edit_base(docid, rev)
        atts = doc.setdefault("_attachments", {})
        atts[name] = {"content_type": content_type,
                      "data": base64.b64encode(bytes(data)).decode("ascii")}
        return self.put(doc)

    def delete_attachment(self, docid: str, name: str, *, rev: str) -> Doc:
        """Write a new revision without attachment `name`."""
        doc = self._edit_base(docid, rev)
        atts = doc.get("_attachments") or {}
        if name not in atts:
            raise NotFound(f"Document is missing attachment {name!r}.")
        del atts[name]
        if not atts:
            doc.pop("_attachments", None)
        return self.put(doc)


class EmbeddedStore:
    """All databases of one Branchline data folder. Implements `sync.store.Store`."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        private_dir(Path(data_dir))
        self.dir = private_dir(Path(data_dir) / "dbs")
        # Databases (and their WAL files) made by an older version were world-readable.
        for path in self.dir.iterdir():
            private_file(path)
        self._lock = _Lock()
        self._open: dict[str, EmbeddedDatabase] = {}
        self._listeners: list[Callable[[str, Any], None]] = []

    def _path(self, name: str) -> Path:
        return self.dir / f"{check_db_name(name)}.sqlite"

    def _notify(self, name: str, seq: int) -> None:
        for callback in list(self._listeners):
            try:
                callback(name, seq)
            except Exception:
                # The write is committed; a broken follower must not turn it into an error.
                _log.exception("change listener failed for %s", name)

    def create_db(self, name: str) -> EmbeddedDatabase:
        """Create a database. Raises `PreconditionFailed` (`file_exists`) if it exists."""
        path = self._path(name)
        with self._lock:
            if path.exists():
                raise PreconditionFailed(
                    f"Database {name!r} already exists.", error="file_exists")
            db = EmbeddedDatabase(name, path, self._notify)
            self._open[name] = db
            return db

    def db(self, name: str) -> EmbeddedDatabase:
        """Open an existing database. Raises NotFound if missing."""
        db = self._open.get(name)  # only valid names get in, so a hit needs no check
        if db is not None:
            return db
        if getattr(_mode, "nonblocking", False):
            raise WouldBlock()  # opening runs the schema script: a write
        path = self._path(name)
        with self._lock:
            db = self._open.get(name)
            if db is not None:
                return db
            if not path.exists():
                raise NotFound(f"Database {name!r} does not exist.", error="not_found")
            db = EmbeddedDatabase(name, path, self._notify)
            self._open[name] = db
            return db

    def delete_db(self, name: str) -> None:
        """Delete a database and its files. Raises NotFound if missing."""
        path = self._path(name)
        with self._lock:
            db = self._open.pop(name, None)
            if db is not None:
                db.close()
            if not path.exists():
                raise NotFound(f"Database {name!r} does not exist.", error="not_found")
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.unlink(str(path) + suffix)
                except FileNotFoundError:
                    pass

    def db_exists(self, name: str) -> bool:
        """Whether database `name` exists (False for an illegal name)."""
        try:
            return self._path(name).exists()
        except BadRequest:
            return False

    def list_dbs(self) -> list[str]:
        """All database names, sorted."""
        return sorted(p.name[:-len(".sqlite")] for p in self.dir.glob("*.sqlite"))

    def close(self) -> None:
        """Close every open connection (the store may be reopened later)."""
        with self._lock:
            for db in self._open.values():
                db.close()
            self._open.clear()

    def add_listener(self, callback: Any) -> None:
        """Register `callback(db_name, update_seq)`, called after each committed write."""
        self._listeners.append(callback)

    def run_nonblocking(self, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """`(True, fn(*args))`, or `(False, None)` when `fn` would have had to wait.

        For short work the HTTP layer wants to run on the event loop: while `fn` runs, any
        of this store's locks held by another thread, a database that is not open yet, or
        SQLite's write lock held by another process raises `WouldBlock` instead of waiting
        (readers in WAL mode never wait for writers), and nothing has been written when it
        does. Other exceptions propagate.
        """
        if getattr(_mode, "nonblocking", False):
            return True, fn(*args)
        _mode.nonblocking = True
        try:
            return True, fn(*args)
        except WouldBlock:
            return False, None
        finally:
            _mode.nonblocking = False
