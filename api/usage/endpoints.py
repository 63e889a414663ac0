"""Routes: the team's usage and limits (owners and admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..core.deps import AdminDep, CtxDep
from ..core.openapi import errors
from ..ratelimit.deps import charge
from . import service
from .schemas import UsagePublic, UsageWarnings

router = APIRouter(prefix="/api/v1", tags=["tenant"])


@router.get(
    "/tenant/usage",
    response_model=UsagePublic,
    responses=errors(
        {
            403: "Only owners and admins see the team's usage.",
            429: "`refresh=true` more often than the team's limit a minute (the answer without it "
            "still works).",
        }
    ),
)
def get_usage(
    who: AdminDep,
    ctx: CtxDep,
    refresh: Annotated[
        bool,
        Query(description="Measure storage now rather than reuse a measurement up to `refresh_seconds` old."),
    ] = False,
) -> dict[str, Any]:
    """What the team uses and every limit that applies to it, in one answer.

    `storage`: each database's bytes and documents, their total against the storage quota
    (`quota_source` says whether it is the instance's default or set for this team by the
    operator with `branchline tenant quota`; owners cannot change it over the API), and the
    attachment files, which have their own per-file limit instead. `measured_at` says when
    the databases were measured: the quota check on writes reuses the same measurement, so
    the figures are at most `refresh_seconds` old. `members`, `content` (trees, sessions by
    period and status, clients) and `integrations` (API keys, webhooks and their deliveries
    of the last 24 hours) are counted from records and indexes the server keeps anyway.
    `limits` lists each limit with a label, its value (null: none) and what happens past it.
    `warnings` holds `storage_high` past 80% of the quota and `storage_full` at 100%."""
    if refresh:
        charge(ctx, "usage_refreshes", who.tenant_id, "measuring storage now, for your team,")
    return service.usage(ctx, who.tenant_id, fresh=refresh)


@router.get(
    "/tenant/usage/warnings",
    response_model=UsageWarnings,
    responses=errors({403: "Only owners and admins see the team's usage."}),
)
def get_usage_warnings(who: AdminDep, ctx: CtxDep) -> dict[str, Any]:
    """Only `warnings` of `GET /tenant/usage` (same measurement, at most `refresh_seconds` old):
    cheap enough for a notice on every admin page."""
    return {"warnings": service.usage_warnings(ctx, who.tenant_id)}
