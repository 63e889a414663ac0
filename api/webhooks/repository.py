"""Storage of webhooks: the tenant's `webhooks` database, which only the server reads and writes.

- `webhook:{id}`: a subscription (its secret sealed, see `signing.py`).
- `whmsg:{webhook id}:{key}`: one event for one subscription, the outbox entry and its
  delivery log in one document. The id is derived from the event (`events.py`), so an
  instance that learns of the same event again (another instance, a restart, a replayed
  feed) conflicts instead of queueing it twice. Delivery claims it with its `_rev`.
- `whfeed:{feed}`: how far the outbox has followed the tenant's `sessions` or `trees` feed.

Closed to `/sync/` (`SERVER_ONLY_DATABASES` in `sync/access.py`), so no device can forge an
outbox entry or read a secret.
"""

from __future__ import annotations

from typing import Any

from sync.store import Database, Store

from ..core.docs import ensure_tenant_db, get_or_none, open_tenant_db

DB_NAME = "webhooks"
SUB_PREFIX = "webhook:"
MSG_PREFIX = "whmsg:"
FEED_PREFIX = "whfeed:"
SCHEMA_VERSION = 1


def open_db(store: Store, tenant_id: str) -> Database | None:
    return open_tenant_db(store, tenant_id, DB_NAME)


def ensure_db(store: Store, tenant_id: str) -> Database:
    return ensure_tenant_db(store, tenant_id, DB_NAME)


def sub_doc_id(webhook_id: str) -> str:
    return SUB_PREFIX + webhook_id


def msg_doc_id(webhook_id: str, key: str) -> str:
    return f"{MSG_PREFIX}{webhook_id}:{key}"


def split_msg_id(docid: str) -> tuple[str, str]:
    webhook_id, _, key = docid[len(MSG_PREFIX) :].partition(":")
    return webhook_id, key


def feed_doc_id(feed: str) -> str:
    return FEED_PREFIX + feed


def subscriptions(db: Database) -> list[dict[str, Any]]:
    rows = db.all_docs(startkey=SUB_PREFIX, endkey=SUB_PREFIX + "\ufff0", include_docs=True, offset=False)[
        "rows"
    ]
    return [r["doc"] for r in rows if r.get("doc")]


def subscription(db: Database | None, webhook_id: str) -> dict[str, Any] | None:
    return get_or_none(db, sub_doc_id(webhook_id)) if db is not None else None


def messages(db: Database, webhook_id: str, *, before: str | None, limit: int) -> list[dict[str, Any]]:
    """A subscription's messages, newest first (keys sort by time), from below `before`."""
    prefix = f"{MSG_PREFIX}{webhook_id}:"
    start = msg_doc_id(webhook_id, before) if before else prefix + "\ufff0"
    rows = db.all_docs(
        startkey=start,
        endkey=prefix,
        descending=True,
        limit=limit + (1 if before else 0),
        include_docs=True,
        offset=False,
    )["rows"]
    docs = [r["doc"] for r in rows if r.get("doc")]
    return [d for d in docs if d["_id"] != start][:limit]


def message(db: Database | None, webhook_id: str, key: str) -> dict[str, Any] | None:
    return get_or_none(db, msg_doc_id(webhook_id, key)) if db is not None else None
