"""Routes: analytics rollups (DESIGN.md, v2 additions)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from sync.access import Principal

from ..clients.repository import normalize_client_id
from ..core.deps import CtxDep, require_roles
from ..core.openapi import errors
from ..sessions.listing import parse_time
from ..teams.scopes import scopes_of
from ..trees.service import normalize_tree_id
from . import service

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

# Viewers read trees but run no sessions; everyone else sees figures (engineers: their own).
ReaderDep = Annotated[Principal, Depends(require_roles("owner", "admin", "author", "engineer"))]
FromQuery = Annotated[
    str | None,
    Query(
        alias="from",
        max_length=40,
        description=(
            "Sessions started on or after this day (2026-11-26; an ISO time counts its whole UTC day)."
        ),
    ),
]
ToQuery = Annotated[
    str | None, Query(max_length=40, description="Sessions started on or before this day (UTC).")
]
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The figures (as CSV with `format=csv`)."}
}
FormatQuery = Annotated[Literal["json", "csv"], Query(description="csv: the same figures as a spreadsheet.")]


@router.get(
    "/trees/{tree_id}",
    response_model=None,
    responses=_CSV | errors({403: "Viewers see no analytics.", 404: "No such tree in your tenant."}),
)
def tree_analytics(
    tree_id: str,
    who: ReaderDep,
    ctx: CtxDep,
    from_: FromQuery = None,
    to: ToQuery = None,
    version: Annotated[int | None, Query(ge=1, description="One published version only.")] = None,
    client_id: Annotated[str | None, Query(max_length=200)] = None,
    format: FormatQuery = "json",
) -> dict[str, Any] | Response:
    """Figures of a tree's sessions: `{tree_id, version, scope, sessions, completed, abandoned,
    in_progress, outcomes, duration_ms: {p50, p90}, nodes: {NODE_ID: {visits, answers, drop_offs,
    median_ms, back_steps, custom_steps}}, paths: [{resolution, nodes, count}], custom_steps}`.

    Built from the sessions' events (late and offline-recorded ones included once they sync).
    Owners, admins and authors see the whole team (`scope: "tenant"`); engineers see their own
    sessions (`scope: "mine"`). Durations are exact nearest-rank percentiles in milliseconds
    over completed sessions; `drop_offs` counts sessions abandoned at a node plus sessions in
    progress idle there for longer than the tenant's threshold (24 hours unless the tenant
    setting `analytics_idle_hours` says otherwise). `from`/`to` select by the UTC day a
    session started. `format=csv` answers one row per node.
    """
    tree_id = normalize_tree_id(tree_id)
    scopes_of(ctx).require(who, tree_id, "run")
    answer = service.tree_analytics(
        ctx,
        who,
        tree_id,
        version=version,
        client_id=normalize_client_id(client_id) if client_id else None,
        from_ms=parse_time(from_),
        to_ms=parse_time(to, end=True),
        now_ms=int(time.time() * 1000),
    )
    if format == "csv":
        return Response(service.tree_csv(answer), media_type="text/csv; charset=utf-8")
    return answer


@router.get("/overview", response_model=None, responses=_CSV | errors({403: "Viewers see no analytics."}))
def overview(
    who: ReaderDep, ctx: CtxDep, from_: FromQuery = None, to: ToQuery = None, format: FormatQuery = "json"
) -> dict[str, Any] | Response:
    """Per tree and per engineer: `{trees: [{tree_id, sessions, completed, abandoned, in_progress,
    outcomes, duration_ms}], engineers: [{user_id, ...the same}], days: [{day, sessions, completed,
    resolved}]}`.

    `days` is sessions over time: one entry per UTC day (`2026-11-26`) on which sessions started,
    oldest first; days without sessions are left out.

    Owners and admins get every engineer; anyone else gets only their own row. Engineers'
    per-tree figures (and `days`) count their own sessions only. `format=csv` answers one row per tree,
    then one per engineer.
    """
    answer = service.overview(
        ctx, who, from_ms=parse_time(from_), to_ms=parse_time(to, end=True), now_ms=int(time.time() * 1000)
    )
    hidden = scopes_of(ctx).hidden(who)
    if hidden:  # trees scoped to teams the caller is not in are left out
        answer["trees"] = [row for row in answer["trees"] if row.get("tree_id") not in hidden]
    if format == "csv":
        return Response(service.overview_csv(answer), media_type="text/csv; charset=utf-8")
    return answer
