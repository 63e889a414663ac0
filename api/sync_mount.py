"""Mounting the sync endpoints (`/sync/{tenant_id}/...`) behind Branchline's auth."""
from __future__ import annotations

import uuid

from fastapi import FastAPI, Request

from sync.access import AccessPolicy, Principal, RolePolicy
from sync.errors import Forbidden

from .auth.service import principal_from_authorization
from .core.deps import client_address


def welcome_uuid(tenant_id: str) -> str:
    # Stable for a tenant across restarts and instances; no secret involved.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"branchline:tenant:{tenant_id}").hex


def install_sync(app: FastAPI, policy: AccessPolicy | None = None) -> None:
    from sync.http import build_sync_router  # noqa: PLC0415

    ctx = app.state.ctx
    # Features install their policy in their start-up hooks (the sessions feature installs
    # per-document rules), which run before the routers are mounted.
    policy = policy or ctx.extras.setdefault("sync_policy", RolePolicy())

    def authenticate(request: Request, tenant_id: str) -> Principal:
        principal = principal_from_authorization(ctx, request.headers.get("authorization"),
                                                 client_address(request))
        if principal.tenant_id != tenant_id:
            raise Forbidden("These credentials belong to another tenant; use the sync URL from GET /api/v1/me.")
        return principal

    app.include_router(build_sync_router(lambda: ctx.store, authenticate, policy, welcome_uuid))
