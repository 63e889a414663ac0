"""Freshness: the nightly scan per tenant, the attention list, "mark reviewed", settings.

The scan (`scan_tenant`) reads each published, non-archived tree of the tenant (its latest
published version, which is what engineers run, and its `treemeta:` sidecar), asks
`rules.py` whether it is overdue for review or failing more often than before (figures from
the analytics rollups), and brings the tenant's flags in line: new reasons become new flag
documents (an audit entry each, and the `tree.needs_review` webhook event through the
outbox's `freshness` feed), held ones are updated only when their figures moved, cleared
ones are deleted. Running it twice for the same day changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from sync.access import Principal
from sync.errors import Conflict, NotFound
from sync.store import Database

from ..audit import service as audit
from ..core.context import AppContext
from ..core.docs import by_prefix, each_tenant, get_or_none, retry_on_conflict, save, tenants_with_db
from ..insights import service as insights
from ..insights.rollup import DAY_MS
from ..tenants.repository import get_tenant, update_tenant
from ..trees import service as trees
from ..trees.models import tree_version_doc_id
from . import repository as repo, rules

log = logging.getLogger("branchline.freshness")

SETTING_NAMES = ("review_interval_days", "failure_rise_points", "failure_min_sessions")


# --- settings -------------------------------------------------------------------------------


def thresholds(ctx: AppContext, tenant_id: str) -> rules.Thresholds:
    """The tenant's settings, each falling back to its default when absent or unusable."""
    stored = get_tenant(ctx.system, tenant_id).get("settings") or {}
    default = rules.Thresholds()
    values: dict[str, Any] = {}
    for name in SETTING_NAMES:
        value = stored.get(name, getattr(default, name)) if isinstance(stored, dict) else None
        if name == "review_interval_days" and value is None:
            values[name] = None  # the workspace turned the default interval off
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            values[name] = value
        else:
            values[name] = getattr(default, name)
    return rules.Thresholds(**values)


def settings_public(t: rules.Thresholds) -> dict[str, Any]:
    return {name: getattr(t, name) for name in SETTING_NAMES}


def set_thresholds(ctx: AppContext, tenant_id: str, changes: dict[str, Any]) -> rules.Thresholds:
    def attempt() -> None:
        doc = get_tenant(ctx.system, tenant_id)
        settings = dict(doc.get("settings") or {})
        settings.update(changes)
        doc["settings"] = settings
        update_tenant(ctx.system, doc)

    retry_on_conflict(attempt, busy="The workspace's settings are being changed; try again.")
    return thresholds(ctx, tenant_id)


# --- the scan -------------------------------------------------------------------------------


def _failure_window(ctx: AppContext, tenant_id: str, tree_id: str, days: tuple[date, date]) -> rules.Window:
    first, last = (
        int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000) // DAY_MS for d in days
    )
    agg = insights.aggregate(ctx, tenant_id, tree_id=tree_id, from_day=first, to_day=last)
    return rules.Window(
        completed=agg.statuses["completed"], failed=agg.outcomes["escalated"] + agg.outcomes["unresolved"]
    )


def _published_trees(db: Database) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(published tree, sidecar) of every tree in use: published and not archived."""
    out = []
    for meta in by_prefix(db, "treemeta:"):
        tree_id, latest = meta.get("tree_id"), meta.get("latest_version")
        if not isinstance(tree_id, str) or not isinstance(latest, int) or latest < 1:
            continue
        draft = get_or_none(db, tree_id)
        if draft is None or draft.get("archived"):
            continue
        version = get_or_none(db, tree_version_doc_id(tree_id, latest))
        if version is not None and isinstance(version.get("tree"), dict):
            out.append((version["tree"], meta))
    return out


def findings(ctx: AppContext, tenant_id: str, today: date) -> dict[str, dict[str, Any]]:
    """The flags the tenant's trees call for on `today`, by flag id (without bookkeeping)."""
    limits = thresholds(ctx, tenant_id)
    found: dict[str, dict[str, Any]] = {}
    for tree, meta in _published_trees(trees.trees_db(ctx, tenant_id)):
        tree_id = meta["tree_id"]
        base = {"tree_id": tree_id, "title": tree.get("title") or tree_id}
        due = rules.review_due(tree, meta, limits)
        if due is not None and rules.overdue_days(due, today) > 0:
            found[repo.flag_id(tree_id, "review_due")] = {
                **base,
                "kind": "review_due",
                "due": due.on.isoformat(),
                "reason": rules.stale_reason(due),
                "figures": None,
            }
        touched, _ = rules.last_touch(meta)
        recent_days, base_days = rules.windows(today, touched)
        recent = _failure_window(ctx, tenant_id, tree_id, recent_days)
        baseline = _failure_window(ctx, tenant_id, tree_id, base_days)
        span = (recent_days[1] - recent_days[0]).days + 1
        reason = rules.failure_rise(recent, baseline, limits, span)
        if reason is not None:
            found[repo.flag_id(tree_id, "failing")] = {
                **base,
                "kind": "failing",
                "due": None,
                "reason": reason,
                "figures": {
                    "recent": {
                        "from": recent_days[0].isoformat(),
                        "completed": recent.completed,
                        "failed": recent.failed,
                    },
                    "before": {
                        "from": base_days[0].isoformat(),
                        "to": base_days[1].isoformat(),
                        "completed": baseline.completed,
                        "failed": baseline.failed,
                    },
                },
            }
    return found


def scan_tenant(ctx: AppContext, tenant_id: str, now: datetime) -> int:
    """Bring the tenant's flags in line with its trees on `now`'s day; how many were raised."""
    wanted = findings(ctx, tenant_id, now.astimezone(UTC).date())
    db = repo.open_db(ctx.store, tenant_id)
    if db is None and not wanted:
        return 0
    db = db or repo.ensure_db(ctx.store, tenant_id)
    held = {d["_id"]: d for d in repo.flags(db)}
    for docid, gone in held.items():
        if docid not in wanted:
            _delete(db, gone)
    stamp = now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    raised = 0
    for docid, found in wanted.items():
        doc = held.get(docid)
        if doc is None:
            new = {
                "_id": docid,
                "type": "tree_flag",
                "schema_version": repo.SCHEMA_VERSION,
                **found,
                "raised_at": stamp,
                "updated_at": stamp,
            }
            try:
                save(db, new)
            except Conflict:
                continue  # raised by another run a moment ago
            raised += 1
            audit.record(
                ctx,
                None,
                "tree.flagged",
                "tree",
                found["tree_id"],
                tenant_id=tenant_id,
                details={"kind": found["kind"], "reason": found["reason"]},
            )
        elif any(doc.get(k) != v for k, v in found.items()):
            try:
                save(db, {**doc, **found, "updated_at": stamp})
            except Conflict:
                pass  # changed meanwhile (a review cleared it); the next run judges again
    return raised


def _delete(db: Database, doc: dict[str, Any]) -> None:
    try:
        db.delete(doc["_id"], doc["_rev"])
    except (Conflict, NotFound):
        pass


def run(ctx: AppContext, now: datetime | None = None) -> dict[str, Any]:
    """The nightly job: every tenant, one tenant's failure never stopping the others."""
    moment = now or datetime.now(UTC)
    out = each_tenant(
        tenants_with_db(ctx.store, "trees"), lambda t: scan_tenant(ctx, t, moment), "freshness: the scan"
    )
    return {"raised": out["removed"], "failed": out["failed"]}


def clear_tree(ctx: AppContext, tenant_id: str, tree_id: str) -> int:
    """Remove a tree's flags at once (a review or a publish answers them); how many went."""
    db = repo.open_db(ctx.store, tenant_id)
    held = repo.flags(db, tree_id)
    if db is not None:
        for doc in held:
            _delete(db, doc)
    return len(held)


# --- the author's side ----------------------------------------------------------------------


def mark_reviewed(
    ctx: AppContext, who: Principal, tree_id: str, now: datetime | None = None
) -> dict[str, Any]:
    """Record that an author checked the tree and found it current: `reviewed_at` in its sidecar."""
    tree_id = trees.get_tree(ctx, who, tree_id)["_id"]
    db = trees.trees_db(ctx, who.tenant_id)
    meta = trees.get_meta(db, tree_id)
    if not meta.get("latest_version"):
        raise Conflict(
            f"{tree_id} was never published; publish it first (an unpublished draft needs no review)."
        )
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    meta = trees.touch_meta(db, tree_id, reviewed_at=stamp, reviewed_by=who.user_id)
    cleared = clear_tree(ctx, who.tenant_id, tree_id)
    version = get_or_none(db, tree_version_doc_id(tree_id, meta["latest_version"])) or {}
    due = rules.review_due(version.get("tree") or {}, meta, thresholds(ctx, who.tenant_id))
    return {
        "ok": True,
        "tree_id": tree_id,
        "reviewed_at": stamp,
        "reviewed_by": who.user_id,
        "next_review_due": due.on.isoformat() if due else None,
        "flags_cleared": cleared,
    }


_KIND_ORDER = {"failing": 0, "review_due": 1}


def _urgency(item: dict[str, Any]) -> tuple[Any, ...]:
    """Failing trees first (the larger rise first: engineers are hitting them now), then the
    longest overdue reviews."""
    failing = next((f for f in item["flags"] if f["kind"] == "failing"), None)
    rise = 0.0
    if failing and failing.get("figures"):
        r, b = failing["figures"]["recent"], failing["figures"]["before"]
        rise = r["failed"] / max(r["completed"], 1) - b["failed"] / max(b["completed"], 1)
    return (failing is None, -rise, item["review_due"] or "9999-12-31", item["tree_id"])


def attention(ctx: AppContext, tenant_id: str, today: date | None = None) -> list[dict[str, Any]]:
    """The flagged trees, each with its reasons, most urgent first."""
    day = today or datetime.now(UTC).date()
    by_tree: dict[str, dict[str, Any]] = {}
    for doc in repo.flags(repo.open_db(ctx.store, tenant_id)):
        item = by_tree.setdefault(
            doc["tree_id"],
            {
                "tree_id": doc["tree_id"],
                "title": doc.get("title"),
                "review_due": None,
                "overdue_days": None,
                "flags": [],
            },
        )
        flag = {k: doc.get(k) for k in ("kind", "reason", "raised_at", "due", "figures")}
        if doc.get("kind") == "review_due" and doc.get("due"):
            item["review_due"] = doc["due"]
            # Never below 0: a scan on a server whose clock runs ahead must not read "-1 days".
            item["overdue_days"] = max(0, (day - date.fromisoformat(doc["due"])).days)
        item["flags"].append(flag)
    for item in by_tree.values():
        item["flags"].sort(key=lambda f: _KIND_ORDER.get(f["kind"], 9))
    return sorted(by_tree.values(), key=_urgency)
