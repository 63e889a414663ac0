"""Writing documents: edits and replicated revisions, a batch per transaction."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

from .. import revtree
from ..errors import BadRequest, BranchlineError, Conflict
from ..nonblocking import WouldBlock, is_nonblocking
from ..store import Doc
from ..store_args import check_bulk_docs, local_id, tombstone
from .attachments import _Attachments
from .docs import _Batch, _check_docid, _DocState, _Saved, _split_body
from .handles import Handle
from .reads import _Reads


class _Writes(_Reads, _Attachments):
    """Document writes."""

    def put(self, doc: Doc, *, new_edits: bool = True) -> Doc:
        """Write one document. Returns `{"ok": True, "id", "rev"}`; raises Conflict."""
        result = self._write([doc], new_edits)[0]
        if isinstance(result, BranchlineError):
            raise result
        written: Doc = result
        return written

    def delete(self, docid: str, rev: str) -> Doc:
        """Write a tombstone on top of `rev` (any current leaf)."""
        if isinstance(docid, str) and docid.startswith("_local/"):
            return self.delete_local(docid, rev)
        return self.put(tombstone(docid, rev))

    def put_local(self, doc: Doc) -> Doc:
        """Write a `_local/` document; its `_rev` must match the stored one (`0-N`)."""
        if not isinstance(doc, dict):
            raise BadRequest("A document must be a JSON object.")
        docid = local_id(doc.get("_id"))
        return self.put({**doc, "_id": docid})

    def delete_local(self, docid: str, rev: str | None) -> Doc:
        """Remove a `_local/` document; `rev`, when given, must be the current one."""
        docid = local_id(docid)
        if rev is None:
            rev = self.get_local(docid)["_rev"]
        return self.put({"_id": docid, "_rev": rev, "_deleted": True})

    def bulk_docs(self, docs: list[Doc], *, new_edits: bool = True) -> list[Doc]:
        """`_bulk_docs`: one result per input, `{ok, id, rev}` or `{id, error, reason}`.

        Atomic per document, one transaction for the whole batch.
        """
        check_bulk_docs(docs)
        out = []
        for doc, result in zip(docs, self._write(docs, new_edits), strict=True):
            if isinstance(result, BranchlineError):
                entry: Doc = {
                    "id": doc.get("_id") if isinstance(doc, dict) else None,
                    "error": result.error,
                    "reason": result.reason,
                }
                if isinstance(doc, dict) and "_rev" in doc and not new_edits:
                    entry["rev"] = doc["_rev"]
                out.append(entry)
            else:
                out.append(result)
        return out

    def _write(self, docs: list[Any], new_edits: bool) -> list[Any]:
        """Apply a batch; per document a result dict or an exception.

        The batch joins the database's group commit: committed in one transaction with
        whatever other writers queued meanwhile, its documents applied in arrival order
        after theirs, so conflicts are decided exactly as if the writes ran one by one.
        """
        with self._handles.pinned(self.name, self.path) as handle:
            results: list[Any] = handle.writes.submit(
                (docs, new_edits), lambda group: self._commit_group(handle, group), wait=not is_nonblocking()
            )
        return results

    def _commit_group(
        self,
        handle: Handle,
        group: list[tuple[list[Any], bool]],
    ) -> tuple[list[list[Any] | BaseException], Callable[[], None] | None]:
        """Apply the queued writers' batches in one transaction; the leader's thread runs it."""
        with self._on_writer(handle) as conn:
            self._begin_write(conn)
            try:
                ids = [
                    doc["_id"]
                    for docs, _ in group
                    for doc in docs
                    if isinstance(doc, dict)
                    and isinstance(doc.get("_id"), str)
                    and not doc["_id"].startswith("_local/")
                ]
                states = self._load_states(ids)
                seq = start_seq = int(self._meta("update_seq"))
                batch = _Batch()
                outcomes: list[list[Any] | BaseException] = []
                for docs, new_edits in group:
                    # A writer alone needs no snapshot: its failure rolls the transaction back.
                    saved = _Saved(states, batch, seq) if len(group) > 1 else None
                    try:
                        results, seq = self._apply_docs(docs, new_edits, states, batch, seq)
                        outcomes.append(results)
                    except Exception as exc:
                        if saved is None:
                            raise
                        # Not a per-document refusal but a failure (a bug, a body that will
                        # not encode): this writer fails alone, the others still commit.
                        seq = saved.restore(states, batch)
                        outcomes.append(exc)
                changed = [s for s in states.values() if s.seq is not None and s.seq > start_seq]
                self._flush(conn, changed, batch, seq, start_seq)
                changed_ids = [s.id for s in changed]
                phase = self._commit_phase if changed_ids else None
                if phase is not None:
                    phase(self.name, changed_ids, None)  # before any reader can see it
                try:
                    conn.execute("COMMIT")
                except BaseException:
                    if phase is not None:
                        phase(self.name, changed_ids, False)
                    raise
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if changed:
                try:
                    # Before the group's writers are answered: what a writer changed is in
                    # force for whatever it does next (an unshare, then the next feed page).
                    self._observe(self.name, changed_ids, seq)
                finally:
                    if phase is not None:
                        phase(self.name, changed_ids, True)
        if seq == start_seq:
            return outcomes, None
        return outcomes, lambda: self._notify(self.name, seq)

    def _apply_docs(
        self, docs: list[Any], new_edits: bool, states: dict[str, _DocState], batch: _Batch, seq: int
    ) -> tuple[list[Any], int]:
        """One writer's documents applied to the group's state; its results and the new seq."""
        results: list[Any] = []
        for doc in docs:
            try:
                if not isinstance(doc, dict):
                    raise BadRequest("Each document must be a JSON object.")
                docid = doc.get("_id")
                if docid is None and new_edits:
                    docid = uuid.uuid4().hex
                docid = _check_docid(docid)
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
        return results, seq

    @staticmethod
    def _begin_write(conn: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE; in non-blocking mode, `WouldBlock` if another process writes
        (`_on_writer` set the writer's busy timeout to nothing then)."""
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            if is_nonblocking():
                raise WouldBlock() from None  # the worker thread will wait (or report it)
            raise

    def _flush(
        self, conn: sqlite3.Connection, changed: list[_DocState], batch: _Batch, seq: int, start_seq: int
    ) -> None:
        if batch.drop_bodies:
            # A revision that stops being a leaf keeps its body, as an old body, until the
            # database is compacted (as in CouchDB): `GET ?rev=` and `open_revs` still read it.
            moved = [k for k in batch.drop_bodies if k not in batch.bodies]
            conn.executemany(
                "INSERT OR REPLACE INTO old_bodies (id, rev, body) "
                "SELECT id, rev, body FROM bodies WHERE id = ? AND rev = ?",
                moved,
            )
            conn.executemany("DELETE FROM bodies WHERE id = ? AND rev = ?", moved)
        if batch.old_bodies:
            conn.executemany(
                "INSERT OR REPLACE INTO old_bodies (id, rev, body) VALUES (?, ?, ?)",
                [(k[0], k[1], v) for k, v in batch.old_bodies.items()],
            )
        if batch.bodies:
            conn.executemany(
                "INSERT OR REPLACE INTO bodies (id, rev, body) VALUES (?, ?, ?)",
                [(k[0], k[1], v) for k, v in batch.bodies.items()],
            )
        if batch.blobs:
            conn.executemany(
                "INSERT OR IGNORE INTO attachments (digest, data) VALUES (?, ?)", list(batch.blobs.items())
            )
        if changed:
            conn.executemany(
                "INSERT INTO docs (id, seq, winner, deleted, tree) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, winner = excluded.winner, "
                "deleted = excluded.deleted, tree = excluded.tree",
                [(s.id, s.seq, s.winner, 1 if s.deleted else 0, revtree.dumps(s.tree)) for s in changed],
            )
        for docid, value in batch.locals.items():
            if value is None:
                conn.execute("DELETE FROM local_docs WHERE id = ?", (docid,))
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO local_docs (id, rev, body) VALUES (?, ?, ?)",
                    (docid, value[0], value[1]),
                )
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
                conn.execute("UPDATE meta SET value = value + ? WHERE key = 'doc_del_count'", (dead,))
        if seq != start_seq:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'update_seq'", (seq,))

    def _commit_tree(self, state: _DocState, tree: revtree.Tree, batch: _Batch) -> None:
        tree = revtree.stem(tree, self._revs_limit)
        if state.tree:  # a new document has no old leaves whose bodies could go
            for rev in revtree.leaf_set(state.tree) - revtree.leaf_set(tree):
                batch.drop_bodies.add((state.id, rev))
                pending = batch.bodies.pop((state.id, rev), None)
                if pending is not None:
                    batch.old_bodies[(state.id, rev)] = pending
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
                raise Conflict(
                    "Document update conflict: the document does not exist, so _rev must be left out."
                )
            parent = None
        elif rev is None:
            if not state.deleted:
                raise Conflict("Document update conflict: the document exists; send its current _rev.")
            parent = state.winner  # re-creating a deleted document continues its history
        else:
            if rev not in tree or rev not in revtree.leaves(tree):
                raise Conflict(
                    f"Document update conflict: {rev} is not a current revision "
                    "of this document; fetch it again and reapply the edit."
                )
            parent = rev
        new_pos = revtree.rev_pos(parent) + 1 if parent else 1
        atts = self._edit_attachments(state.id, parent, doc.get("_attachments"), new_pos, batch)
        new_rev = revtree.new_rev(parent, deleted, body, [(name, a["digest"]) for name, a in atts.items()])
        if atts:
            body["_attachments"] = atts
        new_tree = {r: list(n) for r, n in tree.items()}
        new_tree[new_rev] = [parent, deleted]
        batch.bodies[(state.id, new_rev)] = revtree.encode(body)
        self._commit_tree(state, new_tree, batch)
        return new_rev

    def _apply_replicated(self, state: _DocState, doc: Doc, batch: _Batch) -> str:
        given: str | None = doc.get("_rev")
        revisions = doc.get("_revisions")
        if given is None and revisions is None:
            raise BadRequest("A document written with new_edits=false needs a _rev.")
        path = revtree.path_from_revisions(given, revisions)
        rev = path[0]  # `_revisions` decides when it disagrees with `_rev`, as in CouchDB
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
