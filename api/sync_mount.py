"""Mounting the sync endpoints (`/sync/{tenant_id}/...`) behind Branchline's auth."""
from __future__ import annotations

import uuid

from fastapi import FastAPI, Request

from sync.access import AccessPolicy, Principal
from sync.errors import Forbidden

from .auth.service import cached_principal, principal_from_authorization
from .core.context import MissingSyncPolicy
from .core.deps import client_address
from .core.docs import tenant_quota

__all__ = ["MissingSyncPolicy", "install_sync", "welcome_uuid"]


def welcome_uuid(tenant_id: str) -> str:
    # Stable for a tenant across restarts and instances; no secret involved.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"branchline:tenant:{tenant_id}").hex


def install_sync(app: FastAPI, policy: AccessPolicy | None = None) -> None:
    from sync.http import SyncFrontDoor, build_sync_router  # noqa: PLC0415

    ctx = app.state.ctx
    # Features register their policy in their start-up hooks (the sessions feature registers
    # per-document rules), which run before the routers are mounted.
    if policy is None:
        policy = ctx.policy()

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

    router = build_sync_router(lambda: ctx.store, authenticate, policy, welcome_uuid,
                               authenticate_cached=authenticate_cached,
                               doc_limits=ctx.settings.doc_size_limits(), quota=tenant_quota(ctx))
    app.include_router(router)
    # Served ahead of the middleware stack when the app mixes in SyncFirst (api.app does).
    app.sync_front_door = SyncFrontDoor(router.sync_api)  # type: ignore[attr-defined]
    # Requests are matched against the app's routes in order, and FastAPI's matching costs
    # several microseconds per route: with the sync routes last, it was most of the
    # server's work on a `GET /db`. A replication makes hundreds of /sync/ requests, so
    # its routes go first. No other route matches a /sync/ path before them (the PWA's
    # catch-all comes after), so no request is routed differently; others pay one regex.
    routes = app.router.routes
    for i, route in enumerate(routes):
        if getattr(route, "original_router", None) is router:
            routes.insert(0, routes.pop(i))
            break
