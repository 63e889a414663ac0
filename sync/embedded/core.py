"""One database: how its operations reach the SQLite file, the rows and bodies they read, and
how a revision renders.

An `EmbeddedDatabase` is a light name for a database; the SQLite connections live in the
store's `HandleCache`, which may close them while nothing uses them. Each operation pins the
handle for its duration and works on one connection: a reader (in one read transaction, so
every row it reads comes from the same snapshot) or, inside a group commit, the writer. The
helpers below read `self._conn`, the connection of the operation running on this thread.
"""

from __future__ import annotations

import base64
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from .. import revtree
from ..nonblocking import is_nonblocking
from ..store import Doc
from .docs import _Batch, _DocState
from .handles import Handle, HandleCache
from .schema import _CHUNK


class _Core:
    """The plumbing every part of `EmbeddedDatabase` stands on."""

    def __init__(
        self,
        name: str,
        path: Path,
        handles: HandleCache,
        notify: Callable[[str, int], None],
        observe: Callable[..., None],
        commit_phase: Callable[[str, list[str] | None, bool | None], None] | None = None,
    ) -> None:
        self.name = name
        self.path = path
        self._path_str = str(path)
        self._handles = handles
        self._notify = notify
        self._observe = observe
        self._commit_phase = commit_phase
        self._op = threading.local()  # `conn` and `handle` of the operation on this thread

    # --- plumbing ----------------------------------------------------------------------
    def close(self) -> None:
        """Close this database's connections (they reopen on next use)."""
        self._handles.drop(self.name)

    @property
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = self._op.conn
        return conn

    @property
    def _revs_limit(self) -> int:
        handle: Handle = self._op.handle
        return handle.revs_limit

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A reader connection in a read transaction, for the duration of one operation."""
        op = self._op
        current = getattr(op, "conn", None)
        if current is not None:  # an operation calling another on this thread
            yield current
            return
        with self._handles.pinned(self.name, self.path) as handle:
            conn = handle.take_reader()
            try:
                conn.execute("BEGIN")
                op.conn, op.handle = conn, handle
                try:
                    yield conn
                finally:
                    op.conn = op.handle = None
                    if conn.in_transaction:  # read-only: ending the snapshot is all it does
                        conn.execute("ROLLBACK")
            finally:
                handle.give_back(conn)

    @contextmanager
    def _writing(self) -> Iterator[tuple[Handle, sqlite3.Connection]]:
        """The pinned handle and its writer connection, for work outside the group commit."""
        with self._handles.pinned(self.name, self.path) as handle, self._on_writer(handle) as conn:
            yield handle, conn

    @contextmanager
    def _on_writer(self, handle: Handle) -> Iterator[sqlite3.Connection]:
        """The writer connection of a pinned handle, held against other users of it."""
        op = self._op
        outer = getattr(op, "conn", None), getattr(op, "handle", None)
        with handle.write_lock:
            handle.writer_waits(not is_nonblocking())
            op.conn, op.handle = handle.writer, handle
            try:
                yield handle.writer
            finally:
                # A write made while this thread reads the database (a read, then a write
                # that depends on it) hands the reader back to the read.
                op.conn, op.handle = outer

    def _meta(self, key: str) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _load_states(self, ids: Iterable[str]) -> dict[str, _DocState]:
        conn = self._conn
        ids = list(dict.fromkeys(ids))
        out: dict[str, _DocState] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for docid, seq, winner, deleted, tree in conn.execute(
                f"SELECT id, seq, winner, deleted, tree FROM docs WHERE id IN ({marks})", chunk
            ):
                out[docid] = _DocState(docid, revtree.loads(tree), winner, bool(deleted), seq)
        for docid in ids:
            if docid not in out:
                out[docid] = _DocState(docid, {}, None, False, None)
        return out

    def _load_rows(
        self, ids: list[str]
    ) -> tuple[dict[str, tuple[revtree.Tree, str, bool, int]], dict[tuple[str, str], bytes]]:
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
                chunk = ids[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for docid, tree, winner, deleted, seq in conn.execute(
                    f"SELECT id, tree, winner, deleted, seq FROM docs WHERE id IN ({marks})", chunk
                ):
                    rows[docid] = (revtree.loads(tree), winner, bool(deleted), seq)
                for docid, rev, body in conn.execute(
                    f"SELECT id, rev, body FROM bodies WHERE id IN ({marks})", chunk
                ):
                    bodies[(docid, rev)] = body
        finally:
            if own:
                conn.execute("COMMIT")
        return rows, bodies

    def _row(self, docid: str) -> tuple[revtree.Tree, str, bool, int] | None:
        row = self._conn.execute(
            "SELECT tree, winner, deleted, seq FROM docs WHERE id = ?", (docid,)
        ).fetchone()
        if row is None:
            return None
        return revtree.loads(row[0]), row[1], bool(row[2]), row[3]

    def _body(self, docid: str, rev: str, batch: _Batch | None = None) -> Doc | None:
        if batch is not None:
            pending = batch.bodies.get((docid, rev))
            if pending is not None:
                loaded: Doc = orjson.loads(pending)
                return loaded
        row = self._conn.execute("SELECT body FROM bodies WHERE id = ? AND rev = ?", (docid, rev)).fetchone()
        if row is None:  # a revision that is no longer a leaf, until compaction
            row = self._conn.execute(
                "SELECT body FROM old_bodies WHERE id = ? AND rev = ?", (docid, rev)
            ).fetchone()
        return orjson.loads(row[0]) if row else None

    def _blob(self, digest: str) -> bytes | None:
        row = self._conn.execute("SELECT data FROM attachments WHERE digest = ?", (digest,)).fetchone()
        return row[0] if row else None

    # --- rendering a revision ---------------------------------------------------------
    def _render(
        self,
        docid: str,
        rev: str,
        tree: revtree.Tree,
        body: Doc,
        *,
        revs: bool = False,
        revs_info: bool = False,
        conflicts: bool = False,
        deleted_conflicts: bool = False,
        attachments: bool = False,
        atts_since: list[str] | None = None,
        winner: str | None = None,
        seq: int | None = None,
    ) -> Doc:
        doc: Doc = {"_id": docid, "_rev": rev}
        atts = body.pop("_attachments", None)
        doc.update(body)
        if tree[rev][1]:
            doc["_deleted"] = True
        if atts:
            doc["_attachments"] = self._render_attachments(tree, rev, atts, attachments, atts_since)
        if conflicts or deleted_conflicts:
            live, dead = revtree.conflicts(tree, winner)
            if conflicts and live:
                doc["_conflicts"] = live
            if deleted_conflicts and dead:
                doc["_deleted_conflicts"] = dead
        if revs:
            doc["_revisions"] = revtree.revisions(tree, rev)
        if revs_info:
            # Ancestors keep their bodies until compaction; the ones compacted are missing.
            kept = {r for (r,) in self._conn.execute("SELECT rev FROM old_bodies WHERE id = ?", (docid,))}
            info = []
            for i, r in enumerate(revtree.ancestry(tree, rev)):
                status = "deleted" if tree[r][1] else "available" if i == 0 or r in kept else "missing"
                info.append({"rev": r, "status": status})
            doc["_revs_info"] = info
        if seq is not None:
            doc["_local_seq"] = seq
        return doc

    def _render_attachments(
        self, tree: revtree.Tree, rev: str, atts: Doc, inline: bool, atts_since: list[str] | None
    ) -> Doc:
        cutoff = 0
        if inline and atts_since:
            # Data the client already holds: attachments no newer than the most recent
            # ancestor it names.
            chain = set(revtree.ancestry(tree, rev))
            known = [revtree.rev_pos(r) for r in atts_since if isinstance(r, str) and r in chain]
            cutoff = max(known, default=0)
        out = {}
        for name, meta in atts.items():
            entry = {"content_type": meta["content_type"], "revpos": meta["revpos"], "digest": meta["digest"]}
            if inline and meta["revpos"] > cutoff:
                # As CouchDB: inline data carries no `length` (only stubs do).
                data = self._blob(meta["digest"])
                entry["data"] = base64.b64encode(data or b"").decode("ascii")
            else:
                entry["length"] = meta["length"]
                entry["stub"] = True
            out[name] = entry
        return out
