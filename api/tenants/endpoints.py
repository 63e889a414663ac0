"""Routes: the caller's tenant."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from ..audit import service as audit
from ..core.deps import AdminDep, CtxDep, PrincipalDep, client_address
from . import repository as repo

router = APIRouter(prefix="/api/v1", tags=["tenant"])


class TenantUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)


def _public(doc: dict) -> dict:
    return {
        "id": doc["tenant_id"],
        "name": doc["name"],
        "created_at": doc["created_at"],
        "settings": doc.get("settings", {}),
    }


@router.get("/tenant")
def get_tenant(who: PrincipalDep, ctx: CtxDep) -> dict:
    """The caller's tenant."""
    return _public(repo.get_tenant(ctx.system, who.tenant_id))


@router.patch("/tenant")
def update_tenant(body: TenantUpdate, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Rename the tenant (owners and admins)."""
    doc = repo.get_tenant(ctx.system, who.tenant_id)
    before, doc["name"] = doc["name"], body.name.strip()
    saved = _public(repo.update_tenant(ctx.system, doc))
    audit.record(
        ctx,
        who,
        "tenant.renamed",
        "tenant",
        who.tenant_id,
        ip=client_address(request),
        details={"from": before, "to": saved["name"]},
    )
    return saved
