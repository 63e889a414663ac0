"""Export settings and tenant templates, as documents in the system database.

`exportcfg:{tenant}`   the tenant's default options `{notes, timestamps, undone, attachments}`
`exporttpl:{tenant}:{format}`  a tenant's override of the html, pdf or connectwise template
"""

from __future__ import annotations

from typing import Any

from sync.store import Database

from ..core.docs import get_or_none, save
from ..core.timeutil import iso


def settings_doc_id(tenant_id: str) -> str:
    return f"exportcfg:{tenant_id}"


def template_doc_id(tenant_id: str, fmt: str) -> str:
    return f"exporttpl:{tenant_id}:{fmt}"


def get_settings_doc(system: Database, tenant_id: str) -> dict[str, Any] | None:
    return get_or_none(system, settings_doc_id(tenant_id))


def put_settings(system: Database, tenant_id: str, options: dict[str, bool], user_id: str) -> dict[str, Any]:
    doc = get_settings_doc(system, tenant_id) or {
        "_id": settings_doc_id(tenant_id),
        "type": "export_settings",
        "schema_version": 1,
        "tenant_id": tenant_id,
    }
    doc.update({"options": options, "updated_at": iso(), "updated_by": user_id})
    return save(system, doc)


def get_template_doc(system: Database, tenant_id: str, fmt: str) -> dict[str, Any] | None:
    return get_or_none(system, template_doc_id(tenant_id, fmt))


def put_template(system: Database, tenant_id: str, fmt: str, source: str, user_id: str) -> dict[str, Any]:
    doc = get_template_doc(system, tenant_id, fmt) or {
        "_id": template_doc_id(tenant_id, fmt),
        "type": "export_template",
        "schema_version": 1,
        "tenant_id": tenant_id,
        "format": fmt,
    }
    doc.update({"source": source, "updated_at": iso(), "updated_by": user_id})
    return save(system, doc)


def delete_template(system: Database, tenant_id: str, fmt: str) -> bool:
    doc = get_template_doc(system, tenant_id, fmt)
    if doc is None:
        return False
    system.delete(doc["_id"], doc["_rev"])
    return True
