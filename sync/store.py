"""The store interface: what every backend (embedded SQLite, CouchDB) provides.

Feature code and the HTTP sync layer talk only to these two protocols, never to SQLite or
CouchDB directly, so the sync endpoints behave the same on both backends.

Documents are plain JSON dicts with CouchDB semantics (`_id`, `_rev`, `_deleted`,
`_attachments`, `_revisions`, `_conflicts`, ...). Every method raises a `sync.errors`
exception (`NotFound`, `Conflict`, `BadRequest`, `Forbidden`, ...) on failure; nothing
else escapes for a caller's mistake.

Sequences (`update_seq`, `seq`, `last_seq`) are opaque to callers: pass back what you got.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

Doc = dict[str, Any]
Seq = Any  # opaque: int on the embedded backend, a string on CouchDB


@dataclass(frozen=True)
class Candidates:
    """Which rows of a feed can concern its reader, known without scanning (`sync/longpoll.py`
    keeps an index of recent changes by reader).

    Among the changes up to seq `upto`, only the documents in `ids` can pass the feed's
    `keep`; later changes are scanned as usual. The hint holds only while no change after
    `upto` can have changed who reads the others (a session header gaining a reader makes
    its events readable): a store finding such a change, `suspect(id)` true, after `upto`
    scans the whole feed instead.
    """

    ids: frozenset[str]
    upto: int
    suspect: Callable[[str], bool]


@runtime_checkable
class Database(Protocol):
    """One CouchDB-style database."""

    name: str

    # --- database ---------------------------------------------------------------------
    def info(self) -> Doc:
        """`GET /db`: db_name, doc_count, doc_del_count, update_seq, instance_start_time..."""

    def get_revs_limit(self) -> int: ...

    def set_revs_limit(self, limit: int) -> None: ...

    def compact(self) -> int:
        """Compact as CouchDB does: bodies of revisions that are no longer leaves go (until
        then `get(rev=...)` and `get_open_revs` read them). May finish in the background."""

    # --- documents --------------------------------------------------------------------
    def get(
        self,
        docid: str,
        *,
        rev: str | None = None,
        revs: bool = False,
        revs_info: bool = False,
        conflicts: bool = False,
        deleted_conflicts: bool = False,
        attachments: bool = False,
        atts_since: list[str] | None = None,
        latest: bool = False,
        local_seq: bool = False,
    ) -> Doc:
        """The winning revision (or `rev`). Raises NotFound (`missing` or `deleted`)."""

    def get_open_revs(
        self,
        docid: str,
        open_revs: list[str] | Literal["all"],
        *,
        revs: bool = False,
        attachments: bool = False,
        atts_since: list[str] | None = None,
        latest: bool = False,
    ) -> list[Doc]:
        """`open_revs`: a list of `{"ok": doc}` or `{"missing": rev}` entries."""

    def put(self, doc: Doc, *, new_edits: bool = True) -> Doc:
        """Write one document. Returns `{"ok": True, "id", "rev"}`; raises Conflict."""

    def delete(self, docid: str, rev: str) -> Doc: ...

    def bulk_docs(self, docs: list[Doc], *, new_edits: bool = True) -> list[Doc]:
        """`_bulk_docs`: one result per input, `{id, rev}` or `{id, error, reason}`.

        Atomic per document, one transaction for the whole batch (so a batch costs one
        fsync). With `new_edits=False` the results of successful writes are still returned;
        the HTTP layer drops them (CouchDB answers only the errors).
        """

    def bulk_get(
        self,
        requests: list[Doc],
        *,
        revs: bool = False,
        attachments: bool = False,
        latest: bool = False,
    ) -> list[Doc]:
        """`_bulk_get` results: `[{"id", "docs": [{"ok": doc} | {"error": {...}}]}]`."""

    def revs_diff(self, revs: dict[str, list[str]]) -> dict[str, Doc]:
        """`{id: {"missing": [...], "possible_ancestors": [...]}}` for ids with missing revs."""

    def all_docs(
        self,
        *,
        keys: list[str] | None = None,
        startkey: str | None = None,
        endkey: str | None = None,
        inclusive_end: bool = True,
        limit: int | None = None,
        skip: int = 0,
        descending: bool = False,
        include_docs: bool = False,
        conflicts: bool = False,
        attachments: bool = False,
        update_seq: bool = False,
        offset: bool = True,
    ) -> Doc:
        """`{"total_rows", "offset", "rows": [{"id", "key", "value": {"rev"}, "doc"?}]}`.

        `offset=False` answers `offset: None`: the server's own readers of an id range never
        use it, and the embedded store can only count the documents before `startkey` one by
        one (a few milliseconds per read in a sessions database of 100,000 documents)."""

    def changes(
        self,
        *,
        since: Seq = 0,
        limit: int | None = None,
        descending: bool = False,
        style: Literal["main_only", "all_docs"] = "main_only",
        include_docs: bool = False,
        conflicts: bool = False,
        attachments: bool = False,
        doc_ids: Iterable[str] | None = None,
        selector: Doc | None = None,
        keep: Callable[[str], bool] | None = None,
        pending: bool = True,
        candidates: Candidates | None = None,
    ) -> Doc:
        """`{"results": [{"seq", "id", "changes": [{"rev"}], "deleted"?, "doc"?}], "last_seq", "pending"}`.

        `last_seq` equals the seq of the last row returned (or `since`/current when none).
        Never includes `_local` documents. `pending=False`: a page cut by `limit` may answer
        `pending: None` (counting the rest walks every remaining row on the embedded store:
        tens of milliseconds per page at a million documents, for callers that read the
        whole feed page by page and never look at it). `keep(docid)` False: leave the row
        out before reading it whole (a hint the caller judges again; a store may ignore it). It must not
        read this store: it runs inside the feed's read. `candidates` (with `keep`, ascending):
        the only ids among the changes up to a seq that `keep` may want (see `Candidates`);
        a hint a store may ignore.
        """

    @property
    def update_seq(self) -> Seq: ...

    # --- _local documents (never replicated; revisions `0-N`) --------------------------
    def get_local(self, docid: str) -> Doc: ...

    def put_local(self, doc: Doc) -> Doc: ...

    def delete_local(self, docid: str, rev: str | None) -> Doc: ...

    # --- attachments ------------------------------------------------------------------
    def get_attachment(self, docid: str, name: str, *, rev: str | None = None) -> tuple[bytes, str, str]:
        """`(data, content_type, digest)` of an attachment, from any revision incl. losers."""

    def put_attachment(
        self, docid: str, name: str, data: bytes, content_type: str, *, rev: str | None
    ) -> Doc: ...

    def delete_attachment(self, docid: str, name: str, *, rev: str) -> Doc: ...


@runtime_checkable
class Store(Protocol):
    """A backend holding many databases (all tenants' and the system's)."""

    def create_db(self, name: str) -> Database:
        """Create a database. Raises `PreconditionFailed` (`file_exists`) if it exists."""

    def delete_db(self, name: str) -> None:
        """Delete a database. Raises NotFound if missing."""

    def db(self, name: str) -> Database:
        """Open an existing database. Raises NotFound if missing."""

    def db_exists(self, name: str) -> bool: ...

    def list_dbs(self) -> list[str]: ...

    def close(self) -> None: ...

    def add_listener(self, callback: Any) -> None:
        """Register `callback(db_name, update_seq)`, called after each committed write.

        The HTTP layer uses it to wake longpoll `_changes` requests; derived data (search,
        analytics) uses it to follow the feed. Called from the writing thread.
        """

    def observe_writes(
        self, callback: Callable[[str, list[str] | None], None], forget: Callable[[], None] | None = None
    ) -> bool:
        """Have `callback(db_name, ids)` told of every committed write (the changed document
        ids; None when the database was created or deleted), in the writing thread, before
        the writer gets its answer: for caches that must never answer from before a write.

        False (and the callback is never called) when the store cannot promise to see every
        write, e.g. CouchDB, which other instances write too; such a cache must then not be kept.
        A store shared by several processes (the embedded one, `shared`) reports the others'
        writes late: a cache must then ask `coherence(db, docid)` before answering from
        memory, and `forget()` empties it when the store lost track.
        """
