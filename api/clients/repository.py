"""Storage calls of the clients feature: `client:{slug}` documents in the tenant's `clients`
database, whose handle comes from the one way to open a tenant's database (`sync.naming.tenant_db`)."""

from __future__ import annotations

import re
from typing import Any

from sync.errors import NotFound
from sync.naming import tenant_db
from sync.store import Database

from ..core.context import AppContext

CLIENT_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def clients_db(ctx: AppContext, tenant_id: str) -> Database:
    return tenant_db(ctx.store, tenant_id, "clients")


def normalize_client_id(raw: str) -> str:
    """`client:{slug}` from `client:{slug}` or `{slug}`; NotFound for anything else."""
    value = raw[len("client:") :] if isinstance(raw, str) and raw.startswith("client:") else raw
    if not isinstance(value, str) or not CLIENT_SLUG_RE.match(value):
        raise NotFound(
            f"No client {raw!r}: client ids look like client:contoso (lowercase letters, digits, - and _)."
        )
    return "client:" + value


def get_client_or_none(db: Database, client_id: str) -> dict[str, Any] | None:
    try:
        return db.get(client_id)
    except NotFound:
        return None
