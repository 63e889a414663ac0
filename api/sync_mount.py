"""Mounting the sync endpoints (`/sync/{tenant_id}/...`) behind Branchline's auth."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from fastapi import Request

from sync.access import DatabaseRules, FeaturePolicy, Principal
from sync.errors import Forbidden
from sync.http import SyncDoor, build_sync_door
from sync.naming import SYSTEM_DB

from .apikeys.service import key_doc_id
from .attachments.sync_content import OtherDatabasesRules
from .auth.service import cached_principal, principal_from_authorization
from .core.context import AppContext, MissingSyncPolicy
from .core.deps import client_address
from .core.docs import tenant_quota
from .sync_history import document_history, file_history, start_file_history, tenant_uuid
from .users.repository import user_doc_id

__all__ = ["MissingSyncPolicy", "register_sync_rules", "sync_door", "welcome_uuid"]


def register_sync_rules(ctx: AppContext, *rules: DatabaseRules) -> None:
    """A feature's start-up hook declares the rules of the databases it owns; they gather in
    the one policy that judges every /sync request (`AppContext.sync_policy`)."""
    policy = ctx.sync_policy
    if policy is None:
        policy = ctx.sync_policy = FeaturePolicy(fallback=OtherDatabasesRules())
    if not isinstance(policy, FeaturePolicy):
        raise TypeError(
            f"AppContext.sync_policy is a {type(policy).__name__}; features register "
            "their rules into a FeaturePolicy"
        )
    for r in rules:
        policy.register(r)


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


def start_sync_history(ctx: AppContext) -> Callable[[], None]:
    """At a server process's start: on the embedded backend, the data folder's history id (a
    new one after an unclean stop), or the start fails here, loudly; the answer is to be
    called at a clean stop. The couchdb backend reads its id on first use."""
    if ctx.settings.backend != "embedded":
        return lambda: None
    ctx.sync_history, close = start_file_history(ctx.settings.data_dir)
    return close


def welcome_uuid(ctx: AppContext) -> Callable[[str], str]:
    """The tenants' server `uuid`s on this installation: one per tenant and history of the data
    (`api/sync_history.py`), the same on every process and instance; no secret involved."""
    lock = threading.Lock()

    def answer(tenant_id: str) -> str:
        if ctx.sync_history is None:  # couchdb: read once, on the first welcome
            with lock:
                if ctx.sync_history is None:
                    if ctx.settings.backend == "embedded":  # an app run without its start-up
                        ctx.sync_history = file_history(ctx.settings.data_dir)
                    else:
                        ctx.sync_history = document_history(ctx.system)
        return tenant_uuid(tenant_id, ctx.sync_history)

    return answer


def sync_door(ctx: AppContext) -> SyncDoor:
    """The sync endpoints of every tenant, judged by the registered policy (`ctx.policy()`:
    a missing one is an error) behind Branchline's own authentication."""

    def authenticate(request: Request, tenant_id: str) -> Principal:
        principal = principal_from_authorization(
            ctx, request.headers.get("authorization"), client_address(request)
        )
        if principal.tenant_id != tenant_id:
            raise Forbidden(
                "These credentials belong to another tenant; use the sync URL from GET /api/v1/me."
            )
        principal.extra["address"] = client_address(request)  # for the audit log's entries
        return watching_credentials(principal)

    def authenticate_cached(request: Request, tenant_id: str) -> Principal | None:
        # Credentials verified before (no hashing, no signature check): lets the sync layer
        # answer small reads on the event loop. The user document comes from `ctx.user_docs`
        # (dropped when the account is written), so a deactivation still ends access at once.
        principal = cached_principal(ctx, request.headers.get("authorization"))
        if principal is not None and principal.tenant_id != tenant_id:
            raise Forbidden(
                "These credentials belong to another tenant; use the sync URL from GET /api/v1/me."
            )
        if principal is None:
            return None
        principal.extra["address"] = client_address(request)
        return watching_credentials(principal)

    return build_sync_door(
        lambda: ctx.store,
        authenticate,
        ctx.policy(),
        welcome_uuid(ctx),
        authenticate_cached=authenticate_cached,
        doc_limits=ctx.doc_size_limits,
        quota=tenant_quota(ctx),
    )
