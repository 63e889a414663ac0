"""Typed FastAPI dependencies: the context, the caller, role checks, list paging."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request

from sync.access import Principal
from sync.errors import BadRequest, Forbidden

from .context import AppContext
from .offload import in_worker, quick


# The dependencies are `async`: FastAPI runs a plain `def` dependency on a worker thread,
# one trip per dependency per request (see offload.py).
async def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


CtxDep = Annotated[AppContext, Depends(get_ctx)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def principal_of(ctx: AppContext, authorization: str | None, client_host: str | None) -> Principal:
    """The caller of a request with this `Authorization` header (raises `Unauthorized`)."""
    from ..auth.service import cached_principal, principal_from_authorization  # noqa: PLC0415

    # Credentials verified before are checked again on the event loop (the account read
    # from memory; no signature or hash); anything else (a first use, an API key, a
    # password) on a worker thread.
    done, principal = quick(ctx.store, cached_principal, ctx, authorization)
    if done and principal is not None:
        return principal
    return await in_worker(principal_from_authorization, ctx, authorization, client_host)


async def get_principal(request: Request, ctx: CtxDep) -> Principal:
    return await principal_of(ctx, request.headers.get("authorization"), client_address(request))


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def dep(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden(
                f"This needs one of the roles {', '.join(roles)}; you are {principal.role}. "
                "Ask an owner or admin of your team."
            )
        return principal

    return dep


AdminDep = Annotated[Principal, Depends(require_roles("owner", "admin"))]
AuthorDep = Annotated[Principal, Depends(require_roles("owner", "admin", "author"))]
# Everyone who runs sessions: viewers read trees and nothing else.
RunnerDep = Annotated[Principal, Depends(require_roles("owner", "admin", "author", "engineer"))]


class Page:
    """`limit` (1..200) and an opaque `cursor` for lists answering `{items, next_cursor}`."""

    def __init__(self, limit: int = 50, cursor: str | None = None) -> None:
        self.limit = limit
        self.cursor = cursor

    def after(self) -> Any:
        if not self.cursor:
            return None
        try:
            return orjson.loads(base64.urlsafe_b64decode(self.cursor.encode() + b"=="))
        except ValueError:  # bad base64 and bad JSON are both ValueErrors
            raise BadRequest(
                "The cursor is not valid: pass back next_cursor exactly as a list returned it."
            ) from None

    @staticmethod
    def encode(value: Any) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")

    def answer(self, items: list[Any], last_key: Callable[[Any], Any]) -> dict[str, Any]:
        """Answer `{items, next_cursor}` given up to limit+1 items fetched."""
        more = len(items) > self.limit
        items = items[: self.limit]
        return {"items": items, "next_cursor": self.encode(last_key(items[-1])) if more and items else None}


async def page_params(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Page:
    return Page(limit, cursor)


PageDep = Annotated[Page, Depends(page_params)]
