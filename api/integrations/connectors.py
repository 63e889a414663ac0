"""A tenant's connector for a system, from its stored configuration (the secret unsealed here
and nowhere else). The worker pushes with it; "test connection" checks with it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from ..core.docs import retry_on_conflict, save
from ..core.sealing import unseal
from ..webhooks.ssrf import Resolver
from . import repository as repo
from .autotask import Autotask, Credentials as AutotaskCredentials, Defaults, Zone
from .connector import Connector
from .connectwise import ConnectWise, Credentials as ConnectWiseCredentials
from .service import SEAL_PURPOSE, SECRET_FIELD, seal_binding

if TYPE_CHECKING:
    from ..core.context import AppContext


def _secret(ctx: AppContext, tenant: str, system: str, cfg: dict[str, Any]) -> str:
    sealed = cfg[f"{SECRET_FIELD[system]}_sealed"]
    return unseal(ctx.secret, SEAL_PURPOSE, seal_binding(tenant, system), sealed)


def build(
    ctx: AppContext,
    tenant: str,
    system: str,
    cfg: dict[str, Any],
    *,
    client: httpx.Client,
    resolver: Resolver,
) -> Connector:
    allow_private = ctx.settings.webhook_allow_private
    if system == "autotask":
        return _autotask(ctx, tenant, cfg, client=client, resolver=resolver, allow_private=allow_private)
    creds = ConnectWiseCredentials(
        cfg["site_url"],
        cfg["company_id"],
        cfg["public_key"],
        _secret(ctx, tenant, system, cfg),
        cfg["client_id"],
    )
    return ConnectWise(
        creds,
        client,
        allow_private=allow_private,
        resolver=resolver,
        member=cfg.get("member"),
        work_type=cfg.get("work_type"),
    )


def _autotask(
    ctx: AppContext,
    tenant: str,
    cfg: dict[str, Any],
    *,
    client: httpx.Client,
    resolver: Resolver,
    allow_private: bool,
) -> Autotask:
    user = cfg["api_user"]
    db = repo.ensure_db(ctx.store, tenant)
    kept = repo.status(db, "autotask").get("zone") or {}
    # A zone belongs to the API user it was discovered for: another user may sit elsewhere.
    zone = Zone.from_doc(kept) if kept.get("user") == user else None

    def keep(found: Zone) -> None:
        def write() -> None:
            doc = repo.status(db, "autotask")
            doc["zone"] = {**found.as_doc(), "user": user}
            save(db, doc)

        retry_on_conflict(write, busy="psa: the Autotask zone could not be kept", give_up=lambda: None)

    defaults = Defaults(
        company=cfg.get("company"),
        queue_id=cfg.get("queue_id"),
        ticket_status=cfg.get("ticket_status") or 1,
        priority=cfg.get("priority") or 2,
        due_hours=cfg.get("due_hours") or 24,
        resource_id=cfg.get("resource_id"),
        role_id=cfg.get("role_id"),
        note_type_id=cfg.get("note_type_id") or 1,
    )
    return Autotask(
        AutotaskCredentials(user, _secret(ctx, tenant, "autotask", cfg), cfg["integration_code"]),
        client,
        ctx.settings.autotask_zone_discovery_url,
        allow_private,
        resolver=resolver,
        defaults=defaults,
        zone=zone,
        on_zone=keep,
    )
