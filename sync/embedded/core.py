"""One database file: its connection, the rows and bodies it reads, and how a revision renders."""
from __future__ import annotations

import base64
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson

from .. import revtree
from ..errors import NotFound
from ..private_files import private_sqlite
from ..store import Doc
from .docs import _Batch, _DocState
from .nonblocking import _Lock
from .schema import _BUSY_TIMEOUT_MS, _CHUNK, _COUNTS_SQL, _SCHEMA


class _Core:
    """The plumbing every part of `EmbeddedDatabase` stands on."""

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

    # --- rendering a revision ---------------------------------------------------------
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
