"""Routes: starter-library updates offered for trees a tenant has edited."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..audit import service as audit
from ..core.deps import AdminDep, AuthorDep, CtxDep, client_address
from . import service

router = APIRouter(prefix="/api/v1", tags=["starter library"])


@router.post("/starter-library/load")
def load(who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Load the starter library, or update it: trees you never edited follow the new starter
    version; trees you edited are left alone and the new version is offered beside them."""
    loaded = service.load_starter_library(ctx, who.tenant_id)
    audit.record(ctx, who, "starter_library.loaded", "tenant", who.tenant_id, ip=client_address(request))
    return loaded


@router.get("/trees/{tree_id}/starter-update")
def get_update(tree_id: str, who: AuthorDep, ctx: CtxDep) -> dict:
    """The newer starter version offered for a tree you edited."""
    return service.get_offer(ctx, who, tree_id)


@router.post("/trees/{tree_id}/starter-update/apply")
def apply_update(tree_id: str, who: AuthorDep, ctx: CtxDep) -> dict:
    """Replace your draft with the offered starter version (then publish it as usual)."""
    saved = service.apply_offer(ctx, who, tree_id)
    return {"ok": True, "id": saved["_id"], "rev": saved["_rev"]}
