"""Storage of e-mail: the tenant's `mail` database, which only the server reads and writes.

- `mail:{ulid}`: one message to one recipient, the outbox entry and its sending log in one
  document (design_docs/DOCUMENTS.md). Ids sort by time, so the newest are read first.

Per tenant rather than in the system database: a tenant's mail is its data (it goes with the
tenant's backups, and listing it can never reach another tenant's), and the worker wakes on
writes to `mail` databases only, not on every sign-in written to the system database. Closed
to `/sync/` (`SERVER_ONLY_DATABASES` in `sync/access.py`): a message may hold a link that
signs someone in.
"""

from __future__ import annotations

from typing import Any

from sync.store import Database, Store

from ..core.docs import ensure_tenant_db, get_or_none, open_tenant_db

DB_NAME = "mail"
MSG_PREFIX = "mail:"
SCHEMA_VERSION = 1


def open_db(store: Store, tenant_id: str) -> Database | None:
    return open_tenant_db(store, tenant_id, DB_NAME)


def ensure_db(store: Store, tenant_id: str) -> Database:
    return ensure_tenant_db(store, tenant_id, DB_NAME)


def msg_doc_id(key: str) -> str:
    return MSG_PREFIX + key


def messages(db: Database, *, before: str | None, limit: int) -> list[dict[str, Any]]:
    """The tenant's messages, newest first, from below the id `before`."""
    start = msg_doc_id(before) if before else MSG_PREFIX + "\ufff0"
    rows = db.all_docs(
        startkey=start, endkey=MSG_PREFIX, descending=True, limit=limit + 1, include_docs=True, offset=False
    )["rows"]
    return [r["doc"] for r in rows if r.get("doc") and r["id"] != start][:limit]


def message(db: Database | None, key: str) -> dict[str, Any] | None:
    return get_or_none(db, msg_doc_id(key)) if db is not None else None
