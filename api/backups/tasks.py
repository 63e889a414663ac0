"""The nightly backup job, scheduled in APScheduler (3.x) while the server runs.

`backup-nightly` runs once per tenant through `backup_embedded`, which records a failing
tenant and goes on with the others; afterwards the oldest snapshots beyond
`BRANCHLINE_BACKUP_KEEP` are deleted. On the couchdb backend there is nothing to snapshot
locally (Branchline keeps no state there), so the job is not scheduled.
"""
from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

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
    log.info("nightly backup: %s (%d databases, %d failed), %d old snapshots removed",
             report.path, len(report.databases), len(report.failed), len(gone))
    ctx.last_backup = {"path": str(report.path), "failed": dict(report.failed)}
    return report


def start_scheduler(ctx: Any) -> BackgroundScheduler | None:
    """Start the scheduler with the backup job (embedded backend, backups enabled)."""
    settings = ctx.settings
    if settings.backend != "embedded" or not settings.backup_enabled:
        return None
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    scheduler.add_job(run_nightly_backup, CronTrigger.from_crontab(settings.backup_cron, timezone="UTC"),
                      args=[ctx], id=JOB_ID, name="nightly backup of every tenant",
                      replace_existing=True)
    scheduler.start()
    return scheduler


def stop_scheduler(scheduler: BackgroundScheduler | None) -> None:
    if scheduler is not None:
        scheduler.shutdown(wait=False)
