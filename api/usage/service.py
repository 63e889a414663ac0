"""What a team uses and every limit that applies to it (`GET /api/v1/tenant/usage`).

Each figure comes from something already kept, never from reading every document per
request:

- storage: the tenant quota's own measurement (`sync/quota.py`: each database's file size
  and document count, remembered for `tenant_quota_cache_seconds`), so the page shows the
  very figures the quota is enforced with, and `measured_at` says how old they are;
- attachment files: their records in the system database, summed and remembered for the
  same time (`AttachmentTally`);
- trees and sessions: the derived index (the library's tables and the analytics rollups),
  which follows the changes feeds;
- members, API keys and webhooks: a team's few records of each.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from sync.errors import NotFound
from sync.naming import is_tenant_id
from sync.quota import Measurement

from ..attachments import service as attachments
from ..core.context import AppContext
from ..core.derived import tenant_index
from ..core.docs import by_prefix
from ..core.timeutil import iso
from ..insights.service import FEED as INSIGHTS_FEED
from ..sessions.ids import encode_ulid
from ..sso import repository as sso_repo
from ..tenants.repository import get_tenant
from ..trees.library import FEEDS as LIBRARY_FEEDS
from ..users.repository import list_users, member_status
from ..webhooks import repository as webhooks_repo
from . import repository as repo
from .sizes import format_size

WARN_PERCENT = 80.0
ROLES = ("owner", "admin", "author", "engineer", "viewer")
# Webhook messages counted per subscription for the last 24 hours: past this the figures
# say "at least" (`capped`) rather than read a flood of messages on every page view.
DELIVERY_COUNT_CAP = 5000

_DB_LABELS = {
    "trees": "Trees, drafts and published versions",
    "sessions": "Sessions and their events (and files attached over sync)",
    "clients": "Client contexts",
    "audit": "Audit log",
    "webhooks": "Webhook subscriptions and delivery log",
    "freshness": "Tree freshness flags",
    "integrations": "PSA connector settings and pushes",
    "scripts": "Script library",
    "mail": "E-mail outbox and sent-mail log",
}


def install(ctx: AppContext) -> None:
    """The quota reads the operator's per-tenant overrides from the system database."""
    ctx.quota.override_of = lambda tenant_id: repo.storage_override(ctx.system, tenant_id)
    ctx.attachment_tally = AttachmentTally(ctx.settings.tenant_quota_cache_seconds)


@dataclass(frozen=True)
class Tally:
    at: float
    files: int
    bytes: int


class AttachmentTally:
    """Stored attachment files per tenant (count, bytes), summed from their records at most once
    per `cache_seconds`: a team with thousands of files is not re-read on every page view."""

    def __init__(self, cache_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._seen: dict[str, Tally] = {}
        self._lock = threading.Lock()

    def get(self, ctx: AppContext, tenant_id: str, *, fresh: bool = False) -> Tally:
        now = self._clock()
        with self._lock:
            hit = self._seen.get(tenant_id)
        if hit is not None and not fresh and now - hit.at < self.cache_seconds:
            return hit
        files = size = 0
        for doc in by_prefix(ctx.system, f"attmeta:{tenant_id}:"):
            if doc.get("status") == "stored":
                files += 1
                size += int(doc.get("size") or 0)
        tally = Tally(now, files, size)
        with self._lock:
            if len(self._seen) >= 256:
                self._seen = {t: v for t, v in self._seen.items() if now - v.at < self.cache_seconds}
            self._seen[tenant_id] = tally
        return tally


# --- the answer ---------------------------------------------------------------------------------


def usage(ctx: AppContext, tenant_id: str, *, fresh: bool = False) -> dict[str, Any]:
    """The whole answer for the tenant. `fresh` measures storage now instead of reusing the
    measurement of the last `tenant_quota_cache_seconds` (the page's Refresh)."""
    if fresh:
        ctx.quota.forget(tenant_id)
    m = ctx.quota.measure(ctx.store, tenant_id)
    tally = ctx.attachment_tally.get(ctx, tenant_id, fresh=fresh) if ctx.attachment_tally else None
    storage = storage_figures(
        m,
        tenant_id=tenant_id,
        files=tally.files if tally else 0,
        file_bytes=tally.bytes if tally else 0,
        storage_kind=attachments.storage_of(ctx).kind,
        refresh_seconds=ctx.quota.cache_seconds,
        now=time.time(),
    )
    return {
        "tenant_id": tenant_id,
        "storage": storage,
        "members": member_figures(list_users(ctx.system, tenant_id), now=time.time()),
        "content": content_figures(ctx, tenant_id, m, now_ms=int(time.time() * 1000)),
        "integrations": integration_figures(ctx, tenant_id, now_ms=int(time.time() * 1000)),
        "limits": limits(ctx, tenant_id, m),
        "warnings": warnings(storage["percent"], storage["quota_bytes"], storage["used_bytes"]),
    }


def usage_warnings(ctx: AppContext, tenant_id: str) -> list[dict[str, Any]]:
    """The answer's `warnings` alone, from the quota check's cached measurement: shown above
    every admin page, so it reads no users, sessions or webhook deliveries."""
    m = ctx.quota.measure(ctx.store, tenant_id)
    quota = m.limit if m.limit > 0 else None
    return warnings(percent(m.used, quota), quota, m.used)


def storage_figures(
    m: Measurement,
    *,
    tenant_id: str,
    files: int,
    file_bytes: int,
    storage_kind: str,
    refresh_seconds: float,
    now: float,
) -> dict[str, Any]:
    quota = m.limit if m.limit > 0 else None
    order = {name: i for i, name in enumerate(("sessions", "trees", "clients"))}
    databases = sorted(m.databases.items(), key=lambda kv: (order.get(kv[0], 9), kv[0]))
    return {
        "databases": [
            {
                "name": name,
                "label": _DB_LABELS.get(name, "Your team's own database"),
                "bytes": b,
                "documents": d,
            }
            for name, (b, d) in databases
        ],
        "used_bytes": m.used,
        "quota_bytes": quota,
        "quota_source": "operator" if m.overridden else "default",
        "percent": percent(m.used, quota),
        "attachments": {
            "files": files,
            "bytes": file_bytes,
            "storage": storage_kind,
            "counts_toward_quota": False,
        },
        "measured_at": iso(int(m.measured_at * 1000)),
        "age_seconds": round(max(0.0, now - m.measured_at), 1),
        "refresh_seconds": refresh_seconds,
        "quota_managed_by": (
            "Only the operator of this Branchline server changes it, on the server: "
            f"branchline tenant quota {tenant_id} --storage SIZE"
        ),
    }


def percent(used: int, quota: int | None) -> float | None:
    """`used` as a percentage of `quota`, one decimal, floored so 79.96% is not shown as 80%
    while no warning is given; None without a quota."""
    if not quota:
        return None
    return int(used * 1000 / quota) / 10


def warnings(pct: float | None, quota: int | None, used: int) -> list[dict[str, Any]]:
    """A warning once storage passes 80% of the quota, a critical one when it is full."""
    if pct is None or quota is None:
        return []
    if used >= quota:
        return [
            {
                "code": "storage_full",
                "level": "critical",
                "message": f"Storage is full ({format_size(used)} of {format_size(quota)}): new sessions, "
                "notes, trees and clients are refused until you delete what you no longer need or the "
                "operator raises the quota.",
            }
        ]
    if pct >= WARN_PERCENT:
        # Floored, as `pct` is: 99.9% rounded would read "100% full" while writes still pass.
        return [
            {
                "code": "storage_high",
                "level": "warning",
                "message": f"Storage is {int(pct)}% full ({format_size(used)} of {format_size(quota)}). "
                "At 100% new work is refused: delete what you no longer need, or ask the operator of "
                "your Branchline server to raise the quota.",
            }
        ]
    return []


def member_figures(users: list[dict[str, Any]], *, now: float) -> dict[str, Any]:
    active = dict.fromkeys(ROLES, 0)
    invited = deactivated = 0
    for user in users:
        status = member_status(user, now)
        if status == "active":
            role = user.get("role")
            if role in active:
                active[role] += 1
        elif status in ("invited", "invite_expired"):
            invited += 1
        elif status == "deactivated":
            deactivated += 1
    return {
        "active": active,
        "active_total": sum(active.values()),
        "invited": invited,
        "deactivated": deactivated,
        "seats": None,
    }


def _month_start_ms(now_ms: int) -> int:
    now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    return int(datetime(now.year, now.month, 1, tzinfo=UTC).timestamp() * 1000)


def content_figures(ctx: AppContext, tenant_id: str, m: Measurement, *, now_ms: int) -> dict[str, Any]:
    index = tenant_index(ctx, tenant_id)
    trees = index.query(
        "SELECT"
        " COALESCE(SUM(t.archived = 0 AND m.latest_version IS NOT NULL), 0) AS published,"
        " COALESCE(SUM(t.archived = 0 AND m.latest_version IS NULL), 0) AS never_published,"
        " COALESCE(SUM(t.archived = 1), 0) AS archived"
        " FROM lib_trees t LEFT JOIN lib_meta m ON m.id = t.id",
        feeds=LIBRARY_FEEDS,
    )[0]
    counts = index.query(
        "SELECT COUNT(*) AS total,"
        " COALESCE(SUM(created_at >= ?), 0) AS this_month,"
        " COALESCE(SUM(created_at >= ?), 0) AS last_30_days"
        " FROM lib_usage",
        (_month_start_ms(now_ms), now_ms - 30 * 86_400_000),
        catch_up=False,
    )[0]
    statuses = {
        orjson.loads(r["key"]): r["n"]
        for r in index.query(
            "SELECT key, SUM(n) AS n FROM ins_overview_trees WHERE name = 'statuses' GROUP BY key",
            feeds=(INSIGHTS_FEED,),
        )
    }

    def status(name: str) -> int:
        return int(statuses.get(name, 0) or 0)

    return {
        "trees": {k: int(trees[k]) for k in ("published", "never_published", "archived")},
        "sessions": {
            "total": int(counts["total"]),
            "this_month": int(counts["this_month"]),
            "last_30_days": int(counts["last_30_days"]),
            "completed": status("completed"),
            "abandoned": status("abandoned"),
            "in_progress": status("in_progress"),
        },
        "clients": m.databases.get("clients", (0, 0))[1],
    }


def integration_figures(ctx: AppContext, tenant_id: str, *, now_ms: int) -> dict[str, Any]:
    keys = by_prefix(ctx.system, f"apikey:{tenant_id}:")
    revoked = sum(1 for k in keys if k.get("revoked"))
    db = webhooks_repo.open_db(ctx.store, tenant_id)
    subs = webhooks_repo.subscriptions(db) if db is not None else []
    counted = {"delivered": 0, "failed": 0, "pending": 0}
    capped = False
    if db is not None:
        since = encode_ulid(max(0, now_ms - 86_400_000), 0)[:10]  # the ULID's time part
        for sub in subs:
            prefix = webhooks_repo.msg_doc_id(sub["id"], "")
            rows = db.all_docs(
                startkey=prefix + since,
                endkey=prefix + "\ufff0",
                include_docs=True,
                limit=DELIVERY_COUNT_CAP + 1,
                offset=False,
            )["rows"]
            capped = capped or len(rows) > DELIVERY_COUNT_CAP
            for row in rows[:DELIVERY_COUNT_CAP]:
                state = (row.get("doc") or {}).get("status")
                if state == "delivered":
                    counted["delivered"] += 1
                elif state == "failed":
                    counted["failed"] += 1
                elif state in ("pending", "sending"):
                    counted["pending"] += 1
    return {
        "api_keys_active": len(keys) - revoked,
        "api_keys_revoked": revoked,
        "webhooks": len(subs),
        "webhooks_failing": sum(1 for s in subs if s.get("status") == "failing"),
        "deliveries_last_24h": {**counted, "capped": capped},
    }


def limits(ctx: AppContext, tenant_id: str, m: Measurement) -> list[dict[str, Any]]:
    """Every limit that applies to the team, with its value and what happens past it."""
    s = ctx.settings
    rate = s.rate_limits_enabled
    att = attachments.public_settings(ctx, tenant_id)
    past_rate = "Past it, requests are answered 429 with Retry-After until the budget refills."
    rows: list[tuple[str, str, int | None, str, str, str]] = [
        (
            "storage_quota",
            "Storage quota" + (" (set by the operator for your team)" if m.overridden else ""),
            m.limit or None,
            "bytes",
            "the team's databases (sessions, trees, clients and the server's own records of the team)",
            "Past it, new documents are refused (413 quota_exceeded) on the app, sync and the API; "
            "deleting still works.",
        ),
        (
            "attachment_max_size",
            "Largest attachment",
            int(att["max_size_bytes"]),
            "bytes",
            "each file attached to a step",
            "A larger file is refused (413); owners and admins can change it in the attachment settings, "
            f"up to {attachments.MAX_SIZE_MB_CAP} MB.",
        ),
        (
            "doc_size_trees",
            "Largest tree",
            s.max_doc_bytes_trees,
            "bytes",
            "one tree draft or version",
            "A larger tree is refused (413); split it into smaller trees.",
        ),
        (
            "doc_size_sessions",
            "Largest session document",
            s.max_doc_bytes_sessions,
            "bytes",
            "a session header or one event (a note, an answer)",
            "A larger note or event is refused (413).",
        ),
        (
            "doc_size_clients",
            "Largest client context",
            s.max_doc_bytes_clients,
            "bytes",
            "one client context",
            "A larger client context is refused (413).",
        ),
        (
            "doc_size_other",
            "Largest document elsewhere",
            s.max_doc_bytes,
            "bytes",
            "documents of any other database",
            "A larger document is refused (413).",
        ),
        (
            "rate_user",
            "Requests per signed-in user",
            s.rate_limit_user_per_minute if rate else None,
            "requests_per_minute",
            "each signed-in user (the app, sync included)",
            past_rate,
        ),
        (
            "rate_api_key",
            "Requests per API key",
            s.rate_limit_api_key_per_minute if rate else None,
            "requests_per_minute",
            "each API key (connectors, scripts)",
            past_rate,
        ),
        (
            "rate_exports",
            "Exports",
            s.rate_limit_exports_per_minute if rate else None,
            "requests_per_minute",
            "the whole team, any format",
            past_rate,
        ),
        (
            "rate_pdf",
            "PDF exports",
            s.rate_limit_pdf_per_minute if rate else None,
            "requests_per_minute",
            "the whole team",
            past_rate,
        ),
        (
            "rate_uploads",
            "Attachment uploads",
            s.rate_limit_uploads_per_minute if rate else None,
            "requests_per_minute",
            "the whole team",
            past_rate,
        ),
        (
            "rate_share_views",
            "Views of a share link",
            s.rate_limit_share_views_per_minute if rate else None,
            "requests_per_minute",
            "each read-only share link",
            past_rate,
        ),
        (
            "rate_usage_refreshes",
            "Storage measured now (Refresh on this page)",
            s.rate_limit_usage_refreshes_per_minute if rate else None,
            "requests_per_minute",
            "the whole team; without Refresh the figures are reused for a short while and not limited",
            past_rate,
        ),
        (
            "list_limit",
            "Items per page of a list",
            200,
            "items",
            "every list of the API (its limit parameter; more come with next_cursor)",
            "Ask for the next page with the cursor the answer gives.",
        ),
        (
            "login_failures",
            "Wrong passwords before a pause",
            s.login_max_failures_per_account,
            "failures",
            f"one account from one address, within {s.login_failure_window_seconds // 60} minutes",
            f"Then sign-ins from that address wait {s.login_lockout_seconds} seconds; other addresses are "
            "not affected.",
        ),
    ]
    return [
        {"key": k, "label": label, "value": value, "unit": unit, "applies_to": to, "explanation": why}
        for k, label, value, unit, to, why in rows
    ]


# --- the operator's command ---------------------------------------------------------------------


def resolve_tenant(ctx: AppContext, name: str) -> str:
    """A tenant id from what the operator typed: the id itself, or the team's SSO sign-in name."""
    text = name.strip().lower()
    if is_tenant_id(text):
        try:
            get_tenant(ctx.system, text)
            return text
        except NotFound:
            pass
    holder = sso_repo.holder(ctx.system, sso_repo.slug_id(text)) if text else None
    if holder is not None:
        return holder
    raise NotFound(
        f"No workspace {name!r}: give its tenant id (GET /api/v1/me shows it as tenant.id; the Usage "
        "page in Team admin shows it too) or its single sign-on name."
    )


def describe_quota(ctx: AppContext, tenant_id: str) -> str:
    """The quota and usage of one tenant, in lines for the command line."""
    ctx.quota.forget(tenant_id)
    m = ctx.quota.measure(ctx.store, tenant_id)
    name = get_tenant(ctx.system, tenant_id).get("name", "")
    default = ctx.settings.tenant_quota_bytes
    limit = "no quota" if not m.limit else format_size(m.limit) + f" ({m.limit} bytes)"
    source = (
        "set for this workspace by the operator"
        if m.overridden
        else "the default of BRANCHLINE_TENANT_QUOTA_BYTES"
    )
    pct = percent(m.used, m.limit or None)
    lines = [
        f"Workspace {name!r} (id {tenant_id})",
        f"  storage quota: {limit}, {source}",
        f"  used: {format_size(m.used)} ({m.used} bytes)" + ("" if pct is None else f", {pct}%"),
    ]
    if m.overridden:
        lines.append(f"  default for other workspaces: {'no quota' if not default else format_size(default)}")
    return "\n".join(lines)
