"""Routes: the tenant's audit log (owners and admins only)."""

from __future__ import annotations

from itertools import islice
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from sync.errors import BadRequest

from ..core.deps import AdminDep, CtxDep, PageDep, client_address
from . import service
from .schemas import AuditSettingsUpdate

router = APIRouter(prefix="/api/v1", tags=["audit"])

_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The entries as CSV (with `format=csv`)."}
}


@router.get("/audit", responses=_CSV)
def list_entries(
    who: AdminDep,
    ctx: CtxDep,
    page: PageDep,
    action: Annotated[
        str | None,
        Query(
            max_length=100, description="An action (`api_key.created`), or a prefix ending in `.` (`user.`)."
        ),
    ] = None,
    actor: Annotated[str | None, Query(max_length=320, description="The actor's id or e-mail.")] = None,
    target: Annotated[str | None, Query(max_length=600, description="The target's id.")] = None,
    since: Annotated[
        str | None, Query(alias="from", max_length=40, description="ISO date or date-time, inclusive.")
    ] = None,
    until: Annotated[
        str | None,
        Query(alias="to", max_length=40, description="ISO date-time, exclusive; a date includes that day."),
    ] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """The tenant's audit log, newest first: `{items, next_cursor}`, each item `{id, seq, ts, actor:
    {type, id, email?, name?}, action, target: {type, id}, ip, details, hash, prev_hash}`.

    Entries are written by the server only and chained by hash (`branchline audit verify`).
    With `format=csv` every matching entry is answered as CSV (no paging), for a spreadsheet
    or an auditor."""
    filters = service.Filters.parse(action=action, actor=actor, target=target, since=since, until=until)
    if format == "csv":
        return StreamingResponse(
            service.csv_lines(service.matching(ctx.store, who.tenant_id, filters)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
        )
    after = page.after()
    if after is not None and not isinstance(after, int):
        raise BadRequest("The cursor is not valid: pass back next_cursor exactly as a list returned it.")
    found = list(
        islice(service.matching(ctx.store, who.tenant_id, filters, before_seq=after), page.limit + 1)
    )
    return page.answer([service.public(e) for e in found], lambda e: e["seq"])


@router.get("/audit/settings")
def get_settings(who: AdminDep, ctx: CtxDep) -> dict[str, Any]:
    """The audit log's settings: `{retention_days}` (null: entries are kept forever)."""
    return {"retention_days": service.retention_days(ctx.store, who.tenant_id)}


@router.put("/audit/settings")
def put_settings(body: AuditSettingsUpdate, who: AdminDep, ctx: CtxDep, request: Request) -> dict[str, Any]:
    """Set how long entries are kept. A daily job removes older ones and records a signed checkpoint
    (the hash of the last entry it removed), so the rest of the chain stays verifiable. The change
    itself is recorded as `audit.settings_changed`."""
    before = service.retention_days(ctx.store, who.tenant_id)
    service.set_retention_days(ctx.store, who.tenant_id, body.retention_days)
    service.record(
        ctx,
        who,
        "audit.settings_changed",
        "audit_settings",
        who.tenant_id,
        ip=client_address(request),
        details={"retention_days": {"from": before, "to": body.retention_days}},
    )
    return {"retention_days": body.retention_days}


@router.get("/audit/verify")
def verify(who: AdminDep, ctx: CtxDep) -> dict[str, Any]:
    """Recompute the hash chain: `{ok, entries, problem, seq}`, `problem` naming the first missing or
    edited entry (as `branchline audit verify` does on the server)."""
    verdict = service.verify_tenant(ctx.store, ctx.secret, who.tenant_id)
    return {"ok": verdict.ok, "entries": verdict.entries, "problem": verdict.problem, "seq": verdict.seq}
