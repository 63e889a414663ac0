"""Compaction of the embedded backend, a scheduled job (`compact-databases`).

The embedded store keeps the bodies of revisions that stopped being leaves (readable with
`?rev=` and `open_revs`, as in CouchDB) and shares attachment content between revisions
by digest, so neither can go when a document is written. `compact()` drops both for one
database; this job compacts every database written since its last run (the first run
after start: every database), one damaged database never stopping the others. It runs
every `BRANCHLINE_COMPACT_INTERVAL_SECONDS` (0: never; `POST /{db}/_compact` still works),
started and stopped with the app like every job. CouchDB compacts its own databases, so
the job exists only on the embedded backend.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from sync.embedded import EmbeddedStore

from .runner import EPOCH, ClusterJob

JOB_ID = "compact-databases"


def compact_written(store: EmbeddedStore) -> dict[str, Any]:
    """One run, summed up for the job's record: databases tried, attachment contents
    removed, and the databases that failed with their errors."""
    run = store.compact_written()
    return {"databases": len(run.compacted) + len(run.failed), "removed": run.removed, "failed": run.failed}


def compaction_job(ctx: Any) -> ClusterJob | None:
    """The compaction as a scheduled job (embedded backend, a non-zero interval), else None."""
    store = ctx.store
    every = ctx.settings.compact_interval_seconds
    if not isinstance(store, EmbeddedStore) or every == 0:
        return None
    return ClusterJob(
        JOB_ID,
        "compact the databases written since the last run",
        IntervalTrigger(seconds=every, start_date=EPOCH, timezone=UTC),
        lambda: compact_written(store),
        grace=timedelta(seconds=every),
    )
