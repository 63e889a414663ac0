"""The one loop behind the clean-up jobs: delete, page by page, the documents a rule picks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync.errors import Conflict, NotFound
from sync.store import Database

from ..core.docs import by_prefix

BATCH = 500


def delete_where(db: Database, prefix: str, doomed: Callable[[dict[str, Any]], bool]) -> dict[str, int]:
    """Delete the documents whose id starts with `prefix` and that `doomed` picks.

    Each deletion carries the `_rev` just read: a document a request changes at that moment
    conflicts and is left alone, for the next run to judge again. Answers how many
    documents were seen and deleted.
    """
    seen = deleted = 0
    start: str | None = None
    while True:
        docs = by_prefix(db, prefix, limit=BATCH, startkey=start)
        seen += len(docs)
        for doc in docs:
            if not doomed(doc):
                continue
            try:
                db.delete(doc["_id"], doc["_rev"])
                deleted += 1
            except (Conflict, NotFound):
                pass
        if len(docs) < BATCH:
            return {"seen": seen, "deleted": deleted}
        start = docs[-1]["_id"]
