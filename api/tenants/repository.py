"""Tenant documents in the system database, and the tenant's own databases in the store."""

from __future__ import annotations

from typing import Any

from sync.errors import NotFound, PreconditionFailed
from sync.naming import STANDARD_DATABASES, logical_name, physical_name, tenant_prefix
from sync.store import Database, Store

from ..core.docs import get_or_none, retry_on_conflict, save
from ..core.timeutil import iso


def tenant_doc_id(tenant_id: str) -> str:
    return f"tenant:{tenant_id}"


def get_tenant(system: Database, tenant_id: str) -> dict[str, Any]:
    doc = get_or_none(system, tenant_doc_id(tenant_id))
    if doc is None:
        raise NotFound(f"Tenant {tenant_id} does not exist.")
    return doc


def insert_tenant(system: Database, tenant_id: str, name: str) -> dict[str, Any]:
    return save(
        system,
        {
            "_id": tenant_doc_id(tenant_id),
            "type": "tenant",
            "schema_version": 1,
            "tenant_id": tenant_id,
            "name": name,
            "created_at": iso(),
            "settings": {},
        },
    )


def update_tenant(system: Database, doc: dict[str, Any]) -> dict[str, Any]:
    return save(system, doc)


def create_tenant_databases(store: Store, tenant_id: str) -> None:
    for name in STANDARD_DATABASES:
        try:
            store.create_db(physical_name(tenant_id, name))
        except PreconditionFailed:
            pass  # re-running a half-finished creation is safe


def list_tenant_databases(store: Store, tenant_id: str) -> list[str]:
    prefix = tenant_prefix(tenant_id)
    return sorted(
        n for n in (logical_name(tenant_id, p) for p in store.list_dbs() if p.startswith(prefix)) if n
    )


def update_settings(system: Database, tenant_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge `changes` into the tenant's `settings`, read again and reapplied on a conflict."""

    def attempt() -> dict[str, Any]:
        doc = get_tenant(system, tenant_id)
        doc["settings"] = {**(doc.get("settings") or {}), **changes}
        return save(system, doc)

    return retry_on_conflict(attempt, busy="The workspace's settings are being changed; try again.")
