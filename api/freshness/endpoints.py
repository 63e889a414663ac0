"""Routes: trees that need an author's attention, "mark reviewed", and the workspace's thresholds."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from ..audit import service as audit
from ..core.deps import AdminDep, AuthorDep, CtxDep, client_address
from ..core.openapi import errors
from . import service

router = APIRouter(prefix="/api/v1", tags=["trees"])


@router.get("/trees/attention", responses=errors({403: "Engineers and viewers: this list is for authors."}))
def attention(who: AuthorDep, ctx: CtxDep) -> dict:
    """Trees that need an author's attention, most urgent first, from the nightly freshness
    scan: `{items: [{tree_id, title, review_due, overdue_days, flags: [{kind, reason,
    raised_at, due, figures}]}], next_cursor}`. `kind` is `failing` (sessions of the last 30
    days, or since the latest publish or review, fail markedly more often than in the 90 days
    before: `figures` holds both windows) or `review_due` (the review date passed: `due`).
    Failing trees come first, the larger rise first, then the longest overdue. A tree leaves
    the list when an author marks it reviewed or publishes it, or at the next scan once its
    failure rate recovered. Owners, admins and authors."""
    return {"items": service.attention(ctx, who.tenant_id), "next_cursor": None}


@router.post(
    "/trees/{tree_id}/review-done",
    responses=errors({404: "No such tree.", 409: "The tree was never published."}),
)
def review_done(tree_id: str, who: AuthorDep, ctx: CtxDep, request: Request) -> dict:
    """Mark a published tree reviewed: an author checked it and found it current. The server
    records `reviewed_at` and `reviewed_by` in the tree's `treemeta:` sidecar (the draft is
    not touched, so no author's edit conflicts with it), clears the tree's flags, and the next
    review falls due from today. Answers `{ok, tree_id, reviewed_at, reviewed_by,
    next_review_due, flags_cleared}`; audited as `tree.reviewed`."""
    out = service.mark_reviewed(ctx, who, tree_id)
    audit.record(
        ctx,
        who,
        "tree.reviewed",
        "tree",
        out["tree_id"],
        ip=client_address(request),
        details={"next_review_due": out["next_review_due"], "flags_cleared": out["flags_cleared"]},
    )
    return out


class FreshnessSettings(BaseModel):
    """The workspace's freshness thresholds; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid", strict=True)  # false is not 0
    # Leaving a field out keeps it; null is no value (the schema says integer, so it is refused).
    review_interval_days: int = Field(  # type: ignore[assignment]
        default=None,
        ge=0,
        le=3650,
        description="Trees without review settings fall due this many days after their latest "
        "publish or review (default 180; 0 turns the default off).",
    )
    failure_rise_points: int = Field(  # type: ignore[assignment]
        default=None,
        ge=1,
        le=100,
        description="Flag a tree when its recent failure share is at least this many percentage "
        "points above the 90 days before (default 20).",
    )
    failure_min_sessions: int = Field(  # type: ignore[assignment]
        default=None,
        ge=1,
        le=10_000,
        description="Completed sessions each window needs before a tree can be flagged as failing "
        "(default 10).",
    )


@router.get("/tenant/freshness")
def get_settings(who: AuthorDep, ctx: CtxDep) -> dict:
    """The workspace's freshness thresholds (defaults filled in); `review_interval_days` null
    means trees without their own review settings never fall due."""
    return service.settings_public(service.thresholds(ctx, who.tenant_id))


@router.put("/tenant/freshness")
def put_settings(body: FreshnessSettings, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Change the workspace's freshness thresholds (owners and admins); the nightly scan uses
    them from its next run. Answers the thresholds now in force."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("review_interval_days") == 0:
        changes["review_interval_days"] = None
    before = service.settings_public(service.thresholds(ctx, who.tenant_id))
    after = service.settings_public(service.set_thresholds(ctx, who.tenant_id, changes))
    audit.record(
        ctx,
        who,
        "freshness_settings.changed",
        "tenant",
        who.tenant_id,
        ip=client_address(request),
        details={"from": before, "to": after},
    )
    return after
