"""The e-mail log's retention: sent and failed messages older than BRANCHLINE_MAIL_LOG_DAYS go.

A daily job (`api/jobs/schedule.py`), by the webhooks' rule: never a message still queued or
being sent. Their bodies were dropped when they finished; this removes the rest of the record.
"""

from __future__ import annotations

from typing import Any

from ..core.docs import each_tenant, tenants_with_db
from ..core.timeutil import now_ms
from ..webhooks.retention import prune_finished
from . import repository as repo


def retention_run(ctx: Any) -> dict[str, Any]:
    """Every tenant's log; one tenant's failure never stops the others."""
    cutoff = now_ms() - ctx.settings.mail_log_days * 86_400_000
    return each_tenant(
        tenants_with_db(ctx.store, repo.DB_NAME),
        lambda t: prune_finished(repo.open_db(ctx.store, t), repo.MSG_PREFIX, cutoff),
        "mail: pruning the sent log",
    )
