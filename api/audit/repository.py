"""Storage of the audit log: the tenant's `audit` database, which only the server writes.

It holds `audit:{seq:012d}` entries, the signed `head` (the newest entry's seq and hash), the
retention `checkpoint`, the log's `settings` and `once:{key}` markers (an action filed once
however often it is reported, such as an export made on a device).
The sync endpoints refuse every access to it (`SERVER_ONLY_DATABASES` in `sync/access.py`),
so neither a device nor a replicator can write, delete or read it; the API reads it for
owners and admins.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from sync.errors import BranchlineError
from sync.store import Database, Store

from ..core.docs import ensure_tenant_db, get_or_none, open_tenant_db
from .chain import ENTRY_PREFIX, entry_id

log = logging.getLogger("branchline.audit")

DB_NAME = "audit"
CHECKPOINT_ID = "checkpoint"
HEAD_ID = "head"
ONCE_PREFIX = "once:"
SETTINGS_ID = "settings"
_END = ENTRY_PREFIX + "\ufff0"


def open_db(store: Store, tenant_id: str) -> Database | None:
    """The tenant's audit database, or None before its first entry."""
    return open_tenant_db(store, tenant_id, DB_NAME)


def ensure_db(store: Store, tenant_id: str) -> Database:
    return short_history(ensure_tenant_db(store, tenant_id, DB_NAME))


# The head record is rewritten with every entry. A document's revision tree grows with each
# write and is read and written back whole, so at CouchDB's default of 1000 revisions every
# append would pay for the last thousand. Only the server writes here and nothing
# replicates it, so a short history loses nothing.
REVS_LIMIT = 10
_limited: set[str] = set()


def short_history(db: Database) -> Database:
    """`db` with `_revs_limit` at REVS_LIMIT (checked once per database per process).

    A server that does not offer the setting (pouchdb-server answers `not_found`) keeps its
    own: appends still work, only the head's rewrite costs more there."""
    if db.name not in _limited:
        try:
            if db.get_revs_limit() > REVS_LIMIT:
                db.set_revs_limit(REVS_LIMIT)
        except BranchlineError as exc:
            log.info("audit database %s keeps the server's _revs_limit: %s", db.name, exc.reason)
        _limited.add(db.name)
    return db


def latest_entry(db: Database) -> dict[str, Any] | None:
    rows = db.all_docs(
        startkey=_END, endkey=ENTRY_PREFIX, descending=True, limit=1, include_docs=True, offset=False
    )["rows"]
    return rows[0]["doc"] if rows and rows[0].get("doc") else None


def entries(
    db: Database,
    *,
    descending: bool = False,
    before_seq: int | None = None,
    after_seq: int | None = None,
    batch: int = 200,
) -> Iterator[dict[str, Any]]:
    """Every entry in seq order (newest first when `descending`, then below `before_seq`;
    oldest first otherwise, then above `after_seq`)."""
    if descending:
        start, end = (entry_id(before_seq - 1) if before_seq is not None else _END), ENTRY_PREFIX
    else:
        start, end = (entry_id(after_seq + 1) if after_seq is not None else ENTRY_PREFIX), _END
    skip = 0
    while True:
        rows = db.all_docs(
            startkey=start,
            endkey=end,
            descending=descending,
            limit=batch,
            skip=skip,
            include_docs=True,
            offset=False,
        )["rows"]
        for row in rows:
            if row.get("doc"):
                yield row["doc"]
        if len(rows) < batch:
            return
        start, skip = rows[-1]["id"], 1


def checkpoint(db: Database) -> dict[str, Any] | None:
    return get_or_none(db, CHECKPOINT_ID)


def settings(db: Database | None) -> dict[str, Any] | None:
    return get_or_none(db, SETTINGS_ID) if db is not None else None


def head(db: Database) -> dict[str, Any] | None:
    return get_or_none(db, HEAD_ID)


def once_id(key: str) -> str:
    return ONCE_PREFIX + key
