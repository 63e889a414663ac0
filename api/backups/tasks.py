"""The nightly backup job (`backup-nightly`), one of the scheduled jobs in `api.jobs`.

It runs once per tenant through `backup_embedded`, which records a failing tenant and goes
on with the others; afterwards the oldest snapshots beyond `BRANCHLINE_BACKUP_KEEP` are
deleted. On the couchdb backend there is nothing to snapshot locally (Branchline keeps no
state there; CouchDB is backed up with its own tools), so the job does not exist there.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from ..jobs.runner import ClusterJob
from .service import BackupReport, apply_retention, backup_embedded

log = logging.getLogger("branchline.backups")
JOB_ID = "backup-nightly"


def run_nightly_backup(ctx: Any) -> BackupReport:
    """One nightly run: snapshot every tenant (failures recorded), then apply retention."""
    settings = ctx.settings
    report = backup_embedded(settings.data_dir, settings.resolved_backup_dir())
    for tenant, error in report.failed.items():
        log.error("nightly backup: tenant %s failed: %s", tenant, error)
    gone = apply_retention(settings.resolved_backup_dir(), settings.backup_keep)
    log.info(
        "nightly backup: %s (%d databases, %d failed), %d old snapshots removed",
        report.path,
        len(report.databases),
        len(report.failed),
        len(gone),
    )
    ctx.last_backup = {"path": str(report.path), "failed": dict(report.failed)}
    return report


def backup_job(ctx: Any) -> ClusterJob | None:
    """The nightly backup as a scheduled job (embedded backend with backups enabled), else None."""
    settings = ctx.settings
    if settings.backend != "embedded" or not settings.backup_enabled:
        return None

    def run() -> dict[str, Any]:
        report = run_nightly_backup(ctx)
        return {"path": str(report.path), "databases": len(report.databases), "failed": sorted(report.failed)}

    # A run missed by up to an hour (the server was restarting at 02:30) still happens.
    return ClusterJob(
        JOB_ID,
        "nightly backup of every tenant",
        CronTrigger.from_crontab(settings.backup_cron, timezone="UTC"),
        run,
        grace=timedelta(hours=1),
    )
