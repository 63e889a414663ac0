"""Routes: client contexts (`/api/v1/clients`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from ..core.deps import CtxDep, PageDep, PrincipalDep
from ..core.openapi import errors
from . import service
from .schemas import CLIENT_EXAMPLES

router = APIRouter(prefix="/api/v1")

ClientBody = Annotated[dict[str, Any], Body(openapi_examples=CLIENT_EXAMPLES)]


@router.get("/clients", tags=["clients"])
def list_clients(who: PrincipalDep, ctx: CtxDep, page: PageDep) -> dict:
    """Client contexts in id order: `{items, next_cursor}`."""
    items = service.list_clients(ctx, who, limit=page.limit + 1, after=page.after())
    return page.answer(items, lambda item: item["_id"])


@router.post("/clients", status_code=201, tags=["clients"])
def create_client(body: ClientBody, who: PrincipalDep, ctx: CtxDep) -> dict:
    """Create a client context `{name, values?, notes?}`; without `_id` one is made from the name
    (client:contoso-ltd). Everyone but viewers may."""
    return service.create_client(ctx, who, body)


@router.get("/clients/{client_id}", tags=["clients"])
def get_client(client_id: str, who: PrincipalDep, ctx: CtxDep) -> dict:
    """One client context with its `_rev`."""
    return service.get_client(ctx, who, client_id)


@router.put(
    "/clients/{client_id}",
    tags=["clients"],
    responses=errors({409: "The `_rev` is stale: load the client again."}),
)
def update_client(client_id: str, body: ClientBody, who: PrincipalDep, ctx: CtxDep) -> dict:
    """Replace a client context's `name`, `values` and `notes` at its `_rev` (stale: 409)."""
    return service.update_client(ctx, who, client_id, body)
