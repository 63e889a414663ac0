"""The nightly attachment compaction of the embedded backend (`compact-attachments`).

The embedded store shares attachment content between revisions by digest, so removing a
revision or an attachment cannot drop the bytes at once; `compact()` on each database
reclaims what no stored revision refers to any more. One database failing (a damaged
file) is recorded and the others are still compacted. CouchDB compacts its own databases,
so the job exists only on the embedded backend.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from sync.embedded import EmbeddedStore

from .runner import ClusterJob

log = logging.getLogger("branchline.jobs")
JOB_ID = "compact-attachments"


def compact_all(store: EmbeddedStore) -> dict[str, Any]:
    """Compact every database; how many attachment contents went, and which databases failed."""
    removed, failed, names = 0, {}, store.list_dbs()
    for name in names:
        try:
            removed += store.db(name).compact()
        except Exception as exc:  # noqa: BLE001  (one damaged database never stops the others)
            failed[name] = f"{type(exc).__name__}: {exc}"
            log.error("compaction of %s failed: %s", name, failed[name])
    return {"databases": len(names), "removed": removed, "failed": failed}


def compaction_job(ctx: Any) -> ClusterJob | None:
    """The nightly compaction as a scheduled job (embedded backend), else None."""
    store = ctx.store
    if not isinstance(store, EmbeddedStore):
        return None
    return ClusterJob(JOB_ID, "reclaim attachment content no revision refers to",
                      CronTrigger.from_crontab(ctx.settings.compact_cron, timezone="UTC"),
                      lambda: compact_all(store), grace=timedelta(hours=1))
