"""Mounting the sync endpoints (`/sync/{tenant_id}/...`) behind Branchline's auth."""
from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from fastapi import FastAPI, Request

from sync.access import AccessPolicy, DatabaseRules, FeaturePolicy, Principal
from sync.errors import Forbidden
from sync.naming import SYSTEM_DB

from .apikeys.service import key_doc_id
from .attachments.sync_content import OtherDatabasesRules
from .auth.service import cached_principal, principal_from_authorization
from .core.deps import client_address
from .core.docs import tenant_quota
from .users.repository import user_doc_id

# The `ctx.extras` key of the one policy that judges every /sync request: each feature's
# start-up hook registers the rules of the databases it owns into it (`register_sync_rules`).
SYNC_POLICY = "sync_policy"
# The database whose rules keep engineers out of each other's sessions: without them /sync
# must not start.
GUARDED_DATABASE = "sessions"


class MissingSyncPolicy(RuntimeError):
    """No feature registered a sync access policy: start-up stops rather than serve /sync."""


def register_sync_rules(ctx: Any, *rules: DatabaseRules) -> None:
    """A feature's start-up hook declares the rules of the databases it owns."""
    policy = ctx.extras.get(SYNC_POLICY)
    if policy is None:
        policy = ctx.extras[SYNC_POLICY] = FeaturePolicy(fallback=OtherDatabasesRules())
    for r in rules:
        policy.register(r)


def registered_policy(extras: dict[str, Any]) -> AccessPolicy:
    """The policy the start-up hooks registered; its absence (or that of the sessions rules)
    is an error, never a default.

    A default of role checks alone would let every engineer replicate every session.
    """
    policy = extras.get(SYNC_POLICY)
    if policy is None or (isinstance(policy, FeaturePolicy) and policy.rules_for(GUARDED_DATABASE) is None):
        raise MissingSyncPolicy(
            f"No sync access policy is registered (ctx.extras[{SYNC_POLICY!r}] is empty after the "
            "features' start-up hooks, or it has no rules for the sessions database). The sessions "
            "feature registers SessionsRules with register_sync_rules in "
            "api/sessions/service.py install(), called from api/features.py install_hooks(); "
            "restore that call. Serving /sync with role checks alone would give every engineer "
            "every session, so the server does not start.")
    return policy


def watching_credentials(principal: Principal) -> Principal:
    """The caller, with the documents whose change may change its access (`Principal.watch`):
    a user's account document; an API key's own document and its creator's account."""
    if principal.kind == "apikey":
        key_id = principal.user_id.removeprefix("apikey:")
        ids = {key_doc_id(principal.tenant_id, key_id)}
        creator = principal.extra.get("created_by")
        if isinstance(creator, str):
            ids.add(user_doc_id(principal.tenant_id, creator))
    else:
        ids = {user_doc_id(principal.tenant_id, principal.user_id)}
    return dataclasses.replace(principal, watch=(SYSTEM_DB, frozenset(ids)))


def welcome_uuid(tenant_id: str) -> str:
    # Stable for a tenant across restarts and instances; no secret involved.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"branchline:tenant:{tenant_id}").hex


def install_sync(app: FastAPI, policy: AccessPolicy | None = None) -> None:
    from sync.http import SyncFrontDoor, build_sync_router  # noqa: PLC0415

    ctx = app.state.ctx
    # Features register their policy in their start-up hooks (the sessions feature registers
    # per-document rules), which run before the routers are mounted.
    if policy is None:
        policy = registered_policy(ctx.extras)

    def authenticate(request: Request, tenant_id: str) -> Principal:
        principal = principal_from_authorization(ctx, request.headers.get("authorization"),
                                                 client_address(request))
        if principal.tenant_id != tenant_id:
            raise Forbidden("These credentials belong to another tenant; use the sync URL from GET /api/v1/me.")
        return watching_credentials(principal)

    def authenticate_cached(request: Request, tenant_id: str) -> Principal | None:
        # Credentials verified before (no hashing, no signature check): lets the sync layer
        # answer small reads on the event loop. The user document is still read each time.
        principal = cached_principal(ctx, request.headers.get("authorization"))
        if principal is not None and principal.tenant_id != tenant_id:
            raise Forbidden("These credentials belong to another tenant; use the sync URL from GET /api/v1/me.")
        return None if principal is None else watching_credentials(principal)

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
