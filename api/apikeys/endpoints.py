"""Routes: API keys (owners and admins)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from ..audit import service as audit
from ..core.deps import AdminDep, CtxDep, PageDep, client_address
from . import service

router = APIRouter(prefix="/api/v1", tags=["api keys"])


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120, examples=["ConnectWise connector"])
    role: Literal["owner", "admin", "author", "engineer", "viewer"] = "engineer"


@router.get("/api-keys")
def list_keys(who: AdminDep, ctx: CtxDep, page: PageDep) -> dict:
    """The tenant's API keys (never their secrets)."""
    keys = service.list_keys(ctx, who.tenant_id)
    after = page.after()
    if after:
        keys = [k for k in keys if k["id"] > after]
    return page.answer(keys[: page.limit + 1], lambda k: k["id"])


@router.post("/api-keys", status_code=201)
def create_key(body: ApiKeyCreate, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Create a key acting with `role`. The secret (`key`) is in this answer only: store it now.
    Use it as `Authorization: Bearer <key>` or HTTP Basic with user `apikey`."""
    key = service.create_key(ctx, who, name=body.name, role=body.role)
    audit.record(
        ctx,
        who,
        "api_key.created",
        "api_key",
        key["id"],
        ip=client_address(request),
        details={"name": body.name, "role": body.role},
    )
    return key


@router.delete("/api-keys/{key_id}")
def revoke_key(key_id: str, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Revoke a key; it stops working at once."""
    key = service.revoke_key(ctx, who.tenant_id, key_id)
    audit.record(ctx, who, "api_key.revoked", "api_key", key_id, ip=client_address(request))
    return key
