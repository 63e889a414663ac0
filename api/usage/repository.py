"""Per-tenant quota overrides, as server-only documents in the system database.

`quota:{tenant_id}`  the storage quota the instance operator set for one tenant with
    `branchline tenant quota` (in place of `BRANCHLINE_TENANT_QUOTA_BYTES`): `storage_bytes`
    (0: no quota), `set_at`, `set_by`. No API route writes it: owners cannot raise their own
    quota; an operator hosting several workspaces decides.
"""

from __future__ import annotations

from typing import Any

from sync.errors import Conflict, NotFound
from sync.store import Database

from ..core.docs import get_or_none, retry_on_conflict, save
from ..core.timeutil import iso


def override_id(tenant_id: str) -> str:
    return f"quota:{tenant_id}"


def get_override(system: Database, tenant_id: str) -> dict[str, Any] | None:
    return get_or_none(system, override_id(tenant_id))


def storage_override(system: Database, tenant_id: str) -> int | None:
    """The tenant's own storage quota in bytes (0: none), or None when the default applies."""
    doc = get_override(system, tenant_id)
    value = doc.get("storage_bytes") if doc else None
    # A hand-edited document with a bad value must not lift the quota: the default applies.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def set_override(system: Database, tenant_id: str, storage_bytes: int, set_by: str) -> dict[str, Any]:
    """Create or update the tenant's override (with the `_rev` read; reapplied on a conflict)."""

    def attempt() -> dict[str, Any]:
        doc = get_override(system, tenant_id) or {
            "_id": override_id(tenant_id),
            "type": "tenant_quota",
            "schema_version": 1,
            "tenant_id": tenant_id,
        }
        doc.update({"storage_bytes": storage_bytes, "set_at": iso(), "set_by": set_by})
        return save(system, doc)

    return retry_on_conflict(attempt, busy="The quota is being changed by another command; try again.")


def clear_override(system: Database, tenant_id: str) -> bool:
    """Remove the override (the default applies again); False when there was none."""
    doc = get_override(system, tenant_id)
    if doc is None:
        return False
    try:
        system.delete(doc["_id"], doc["_rev"])
    except (NotFound, Conflict):
        return clear_override(system, tenant_id)
    return True
