"""The delivery log's retention: finished messages older than the setting are removed.

A daily job (`api/jobs/schedule.py`). Only `delivered` and `failed` messages go, never one
still queued or being sent. A removed message could in principle be queued again if its
source document were read from the feed again, but a feed is only re-read for the stretch
after a checkpoint that lost a race, minutes, far inside the retention period.
"""

from __future__ import annotations

from typing import Any

from sync.store import Database, Store

from ..core.docs import each_tenant, tenants_with_db
from ..core.timeutil import now_ms
from . import repository as repo

_BATCH = 500
_FINISHED = ("delivered", "failed")


def prune_messages(store: Store, tenant_id: str, older_than_ms: int) -> int:
    """Remove the tenant's finished messages created before `older_than_ms`; how many went."""
    return prune_finished(repo.open_db(store, tenant_id), repo.MSG_PREFIX, older_than_ms)


def prune_finished(db: Database | None, prefix: str, older_than_ms: int) -> int:
    """Remove the `delivered` and `failed` documents under `prefix` created (`created_ms`)
    before `older_than_ms`; how many went. The e-mail outbox's log (`api/mail`) uses it too."""
    if db is None:
        return 0
    removed = 0
    start = prefix
    while True:
        rows = db.all_docs(
            startkey=start, endkey=prefix + "\ufff0", limit=_BATCH, include_docs=True, offset=False
        )["rows"]
        old = [
            {"_id": r["id"], "_rev": r["doc"]["_rev"], "_deleted": True}
            for r in rows
            if r.get("doc")
            and r["doc"].get("status") in _FINISHED
            and int(r["doc"].get("created_ms") or 0) < older_than_ms
        ]
        if old:
            removed += sum(1 for res in db.bulk_docs(old) if not res.get("error"))
        if len(rows) < _BATCH:
            return removed
        start = rows[-1]["id"] + "\u0000"


def retention_run(ctx: Any) -> dict[str, Any]:
    """Every tenant's log; one tenant's failure never stops the others."""
    cutoff = now_ms() - ctx.settings.webhook_log_days * 86_400_000
    return each_tenant(
        tenants_with_db(ctx.store, repo.DB_NAME),
        lambda t: prune_messages(ctx.store, t, cutoff),
        "webhooks: pruning the delivery log",
    )
