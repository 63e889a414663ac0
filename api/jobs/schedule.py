"""The one list of scheduled jobs, and the runner's start and stop (called by the app's lifespan).

On the couchdb backend every instance starts a runner and they share a `DocumentLease` in
the system database, so each job runs once per slot across the cluster; so do the processes
of an embedded installation served by several (`BRANCHLINE_PROCESSES`). One process alone
has a local lease, and the job records live in its system database all the same.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import UTC, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sync.naming import SYSTEM_DB

from ..audit.service import retention_run as audit_retention
from ..auth.token_sweep import sweep_expired_refresh_tokens
from ..backups.tasks import backup_job
from ..core.leases import DocumentLease, Lease, LocalLease
from ..freshness.service import run as freshness_run
from ..mail.retention import retention_run as mail_retention
from ..ratelimit.sweep import sweep_stale_counters
from ..sso.sweep import sweep_spent_sso_records
from ..webhooks.retention import retention_run as webhook_retention
from .compaction import compaction_job
from .runner import EPOCH, ClusterJob, JobRunner

LEASE_NAME = "scheduler"
TOKEN_SWEEP_ID = "refresh-token-sweep"
SSO_SWEEP_ID = "sso-sweep"
RATE_LIMIT_SWEEP_ID = "rate-limit-sweep"
AUDIT_RETENTION_ID = "audit-retention"
WEBHOOK_RETENTION_ID = "webhook-log-retention"
MAIL_RETENTION_ID = "mail-log-retention"
FRESHNESS_ID = "tree-freshness"


def instance_id() -> str:
    """This process, as named in leases and job records: host, process id and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def jobs(ctx: Any) -> list[ClusterJob]:
    settings = ctx.settings
    every = settings.cleanup_interval_seconds
    cleanup = IntervalTrigger(seconds=every, start_date=EPOCH, timezone=UTC)
    found = [
        ClusterJob(
            TOKEN_SWEEP_ID,
            "delete expired refresh tokens",
            cleanup,
            lambda: sweep_expired_refresh_tokens(ctx.system),
            grace=timedelta(seconds=every),
        ),
        ClusterJob(
            SSO_SWEEP_ID,
            "delete abandoned SSO sign-ins, unused codes and expired SAML assertion ids",
            cleanup,
            lambda: sweep_spent_sso_records(ctx.system),
            grace=timedelta(seconds=every),
        ),
    ]
    if settings.several_instances:  # one process alone counts rate limits in memory
        found.append(
            ClusterJob(
                RATE_LIMIT_SWEEP_ID,
                "delete stale rate-limit counters",
                cleanup,
                lambda: sweep_stale_counters(ctx.system),
                grace=timedelta(seconds=every),
            )
        )
    found += [job for job in (backup_job(ctx), compaction_job(ctx)) if job is not None]
    found.append(
        ClusterJob(
            AUDIT_RETENTION_ID,
            "remove audit entries past each tenant's retention",
            IntervalTrigger(hours=24, start_date=EPOCH, timezone=UTC),
            lambda: audit_retention(ctx),
            grace=timedelta(hours=24),
        )
    )
    found.append(
        ClusterJob(
            WEBHOOK_RETENTION_ID,
            "remove webhook deliveries past BRANCHLINE_WEBHOOK_LOG_DAYS",
            IntervalTrigger(hours=24, start_date=EPOCH, timezone=UTC),
            lambda: webhook_retention(ctx),
            grace=timedelta(hours=24),
        )
    )
    found.append(
        ClusterJob(
            MAIL_RETENTION_ID,
            "remove sent and failed e-mail past BRANCHLINE_MAIL_LOG_DAYS",
            IntervalTrigger(hours=24, start_date=EPOCH, timezone=UTC),
            lambda: mail_retention(ctx),
            grace=timedelta(hours=24),
        )
    )
    found.append(
        ClusterJob(
            FRESHNESS_ID,
            "flag trees due for review or failing more often than before",
            CronTrigger(hour=3, minute=0, timezone=UTC),
            lambda: freshness_run(ctx),
            grace=timedelta(hours=12),
        )
    )
    return found


def start_scheduler(ctx: Any) -> JobRunner:
    """Start this instance's job runner (the app's `JobScheduler` worker stops it)."""
    settings = ctx.settings
    holder = instance_id()
    ttl = settings.scheduler_lease_seconds
    lease: Lease
    if settings.several_instances:
        lease = DocumentLease(ctx.store.db(SYSTEM_DB), LEASE_NAME, holder, ttl)
    else:
        lease = LocalLease(LEASE_NAME, holder)
    runner = JobRunner(ctx.store.db(SYSTEM_DB), lease, jobs(ctx), tick=ttl / 3)
    runner.start()
    return runner
