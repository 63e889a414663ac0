"""Attachment records and tenant limits, as server-only documents in the system database.

`attmeta:{tenant}:{attachment_id}`  one attachment: where it belongs (session, node), what
    it is (name, type, size, SHA-256), who stored it and when, and `status`: `pending`
    (claimed by an upload in progress) or `stored` (checked and in storage).
`attsettings:{tenant}`  the tenant's limits: `max_size_mb`, `allowed_types`,
    `strip_image_metadata`.

The metadata devices and exports read is the `attachment_added` event in the session; these
records are the server's own bookkeeping (idempotent retries, which session a file belongs
to), never replicated to devices.
"""

from __future__ import annotations

from typing import Any

from sync.errors import Conflict, NotFound
from sync.store import Database

from ..core.docs import get_or_none, save


def meta_id(tenant_id: str, attachment_id: str) -> str:
    return f"attmeta:{tenant_id}:{attachment_id}"


def settings_id(tenant_id: str) -> str:
    return f"attsettings:{tenant_id}"


def get_meta(system: Database, tenant_id: str, attachment_id: str) -> dict[str, Any] | None:
    return get_or_none(system, meta_id(tenant_id, attachment_id))


def create_meta(system: Database, doc: dict[str, Any]) -> dict[str, Any] | None:
    """Create a record; None when one with that id appeared meanwhile (a concurrent upload)."""
    try:
        return save(system, doc)
    except Conflict:
        return None


def update_meta(system: Database, doc: dict[str, Any]) -> dict[str, Any]:
    return save(system, doc)


def delete_meta(system: Database, doc: dict[str, Any]) -> None:
    try:
        system.delete(doc["_id"], doc["_rev"])
    except (NotFound, Conflict):
        pass


def get_settings_doc(system: Database, tenant_id: str) -> dict[str, Any] | None:
    return get_or_none(system, settings_id(tenant_id))


def put_settings(
    system: Database, tenant_id: str, values: dict[str, Any], user_id: str, updated_at: str
) -> dict[str, Any]:
    doc = get_settings_doc(system, tenant_id) or {
        "_id": settings_id(tenant_id),
        "type": "attachment_settings",
        "schema_version": 1,
        "tenant_id": tenant_id,
    }
    doc.update(values)
    doc.update({"updated_at": updated_at, "updated_by": user_id})
    return save(system, doc)
