"""Mounting the sync endpoints (`/sync/{tenant_id}/...`) behind Branchline's auth."""
from __future__ import annotations

import uuid

from fastapi import Request

from sync.access import Principal
from sync.errors import Forbidden
from sync.http import SyncDoor, build_sync_door

from .auth.service import cached_principal, principal_from_authorization
from .core.context import AppContext, MissingSyncPolicy
from .core.deps import client_address
from .core.docs import tenant_quota

__all__ = ["MissingSyncPolicy", "sync_door", "welcome_uuid"]


def welcome_uuid(tenant_id: str) -> str:
    # Stable for a tenant across restarts and instances; no secret involved.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"branchline:tenant:{tenant_id}").hex


def sync_door(ctx: AppContext) -> SyncDoor:
    """The sync endpoints of every tenant, judged by the registered policy (`ctx.policy()`:
    a missing one is an error) behind Branchline's own authentication."""

    def authenticate(request: Request, tenant_id: str) -> Principal:
        principal = principal_from_authorization(ctx, request.headers.get("authorization"),
                                                 client_address(request))
        if principal.tenant_id != tenant_id:
            raise Forbidden("These credentials belong to another tenant; use the sync URL from GET /api/v1/me.")
        return principal

    def authenticate_cached(request: Request, tenant_id: str) -> Principal | None:
        # Credentials verified before (no hashing, no signature check): lets the sync layer
        # answer small reads on the event loop. The user document is still read each time.
        principal = cached_principal(ctx, request.headers.get("authorization"))
        if principal is not None and principal.tenant_id != tenant_id:
            raise Forbidden("These credentials belong to another tenant; use the sync URL from GET /api/v1/me.")
        return principal

    return build_sync_door(lambda: ctx.store, authenticate, ctx.policy(), welcome_uuid,
                           authenticate_cached=authenticate_cached,
                           doc_limits=ctx.doc_size_limits, quota=tenant_quota(ctx))
