"""Route: health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sync.errors import BranchlineError
from sync.naming import STANDARD_DATABASES, physical_name

from .core.deps import CtxDep, client_address
from .core.version import VERSION

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(ctx: CtxDep, request: Request) -> dict:
    """Liveness and readiness: the store answers. No authentication, no tenant data.

    Called with a tenant owner's or admin's credentials, it adds `details`: per database
    of that tenant, how many documents still have conflicting revisions (CouchDB backend:
    the `branchline-conflicts` view; embedded backend: counted from the documents).
    """
    ctx.system.info()
    out: dict[str, Any] = {"status": "ok", "backend": ctx.settings.backend, "version": VERSION}
    authorization = request.headers.get("authorization")
    if authorization:
        from .auth.service import principal_from_authorization  # noqa: PLC0415

        try:
            principal = principal_from_authorization(ctx, authorization, client_address(request))
        except BranchlineError:
            return out  # health stays public; bad credentials just get no details
        if principal.is_admin:
            out["details"] = {
                "tenant_id": principal.tenant_id,
                "conflicts": conflicts_by_database(ctx, principal.tenant_id),
            }
    return out


def conflicts_by_database(ctx: Any, tenant_id: str) -> dict[str, int]:
    """Documents with conflicts in each of the tenant's standard databases."""
    counts: dict[str, int] = {}
    for name in STANDARD_DATABASES:
        physical = physical_name(tenant_id, name)
        if not ctx.store.db_exists(physical):
            continue
        counter = getattr(ctx.store, "conflicts_count", None)
        if counter is not None:
            counts[name] = counter(physical)
        else:
            counts[name] = _count_conflicts(ctx.store.db(physical))
    return counts


def _count_conflicts(db: Any, batch: int = 500) -> int:
    """Without views (embedded backend): walk `_all_docs` with conflicts, page by page."""
    total, start = 0, None
    while True:
        page = db.all_docs(
            include_docs=True,
            conflicts=True,
            limit=batch,
            startkey=None if start is None else start + "\u0000",
            offset=False,
        )["rows"]
        total += sum(1 for r in page if (r.get("doc") or {}).get("_conflicts"))
        if len(page) < batch:
            return total
        start = page[-1]["id"]
