"""Small pure helpers on documents and the in-memory state of a batch being applied."""

from __future__ import annotations

from typing import Any

from .. import revtree
from ..errors import BadRequest, NotFound
from ..naming import REPLICATION_MEMBERS, SPECIAL_MEMBERS
from ..store import Doc


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


def _split_body(doc: Doc) -> Doc:
    """The stored part of a document: user fields plus `_attachments` (added later)."""
    body = {key: value for key, value in doc.items() if key[:1] != "_" or key in REPLICATION_MEMBERS}
    if len(body) < len(doc) and not (doc.keys() - body.keys()) <= SPECIAL_MEMBERS:
        bad = next(key for key in doc if key[:1] == "_" and key not in SPECIAL_MEMBERS)
        raise BadRequest(f"Bad special document member: {bad}", error="doc_validation")
    return body


class _DocState:
    """The in-transaction view of one document while a batch is applied."""

    __slots__ = ("deleted", "dirty", "id", "seq", "tree", "was", "winner")

    def __init__(
        self, docid: str, tree: revtree.Tree, winner: str | None, deleted: bool, seq: int | None
    ) -> None:
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
        # Bodies of revisions written and superseded within this batch: kept as old bodies.
        self.old_bodies: dict[tuple[str, str], bytes] = {}
        self.blobs: dict[str, bytes] = {}
        self.locals: dict[str, tuple[int, bytes] | None] = {}


class _Saved:
    """What one writer's documents may change in a group's state, to undo them if it fails."""

    __slots__ = ("blobs", "bodies", "drop_bodies", "locals", "old_bodies", "seq", "states")

    def __init__(self, states: dict[str, _DocState], batch: _Batch, seq: int) -> None:
        # Trees are replaced, never edited in place, so keeping references is a snapshot.
        self.states = {docid: (s.tree, s.winner, s.deleted, s.seq, s.dirty) for docid, s in states.items()}
        self.bodies = dict(batch.bodies)
        self.drop_bodies = set(batch.drop_bodies)
        self.old_bodies = dict(batch.old_bodies)
        self.blobs = dict(batch.blobs)
        self.locals = dict(batch.locals)
        self.seq = seq

    def restore(self, states: dict[str, _DocState], batch: _Batch) -> int:
        """Put `states` and `batch` back as they were; answers the seq to continue from."""
        for docid in list(states):
            if docid not in self.states:
                del states[docid]
        for docid, (tree, winner, deleted, seq, dirty) in self.states.items():
            s = states[docid]
            s.tree, s.winner, s.deleted, s.seq, s.dirty = tree, winner, deleted, seq, dirty
        batch.bodies, batch.drop_bodies = self.bodies, self.drop_bodies
        batch.old_bodies = self.old_bodies
        batch.blobs, batch.locals = self.blobs, self.locals
        return self.seq
