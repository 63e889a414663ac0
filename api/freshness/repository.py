"""Storage of freshness flags: the tenant's `freshness` database, which only the server uses.

- `treeflag:{slug}:{kind}` (`type: tree_flag`): one reason a tree needs an author's attention,
  `kind` `review_due` or `failing`. Created when the nightly job first finds the reason,
  updated (figures only) while it holds, deleted when it clears (a review, a publish, the
  failure rate recovering). A flag raised again later is a new document with a new
  `raised_at`, so the webhook event, keyed by id and `raised_at`, fires once per flag.

Closed to `/sync/` (`SERVER_ONLY_DATABASES` in `sync/access.py`): failure rates and review
state are for authors and admins, and devices of every role replicate the `trees` database.
"""

from __future__ import annotations

from typing import Any

from sync.store import Database, Store

from ..core.docs import by_prefix, ensure_tenant_db, open_tenant_db
from ..trees.models import tree_slug

DB_NAME = "freshness"
FLAG_PREFIX = "treeflag:"
KINDS = ("failing", "review_due")
SCHEMA_VERSION = 1


def open_db(store: Store, tenant_id: str) -> Database | None:
    return open_tenant_db(store, tenant_id, DB_NAME)


def ensure_db(store: Store, tenant_id: str) -> Database:
    return ensure_tenant_db(store, tenant_id, DB_NAME)


def flag_id(tree_id: str, kind: str) -> str:
    return f"{FLAG_PREFIX}{tree_slug(tree_id)}:{kind}"


def is_flag_id(docid: str) -> bool:
    return docid.startswith(FLAG_PREFIX)


def flags(db: Database | None, tree_id: str | None = None) -> list[dict[str, Any]]:
    """Every flag (or one tree's), in id order."""
    if db is None:
        return []
    prefix = FLAG_PREFIX if tree_id is None else f"{FLAG_PREFIX}{tree_slug(tree_id)}:"
    return [d for d in by_prefix(db, prefix) if d.get("type") == "tree_flag"]
