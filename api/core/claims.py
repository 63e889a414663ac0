"""Names one tenant holds across the installation, in the system database.

A claim is a document whose id is the name (`ssoslug:contoso`, `ssodomain:contoso.com`,
`branddomain:help.example-msp.com`) and whose `tenant_id` is its holder. Creating the
document is the claim: two tenants claiming the same name at once race on the id, and the
store lets only one create it, so no name ever has two holders.
"""

from __future__ import annotations

from typing import Any

from sync.errors import Conflict, NotFound
from sync.store import Database

from .docs import get_or_none, save


def taken_message(what: str) -> str:
    return f"{what} is already used by another team. Choose another."


def claim(
    system: Database,
    docid: str,
    tenant_id: str,
    what: str,
    *,
    kind: str,
    fields: dict[str, Any] | None = None,
) -> bool:
    """Claim `docid` for the tenant as a document of type `kind` (with `fields`); Conflict,
    naming `what`, when another tenant holds it. True when this call made the claim, False
    when the tenant already held it (its document is left as it was)."""
    held = get_or_none(system, docid)
    if held is not None:
        if held["tenant_id"] == tenant_id:
            return False
        raise Conflict(taken_message(what))
    try:
        save(system, {"_id": docid, "type": kind, "tenant_id": tenant_id, **(fields or {})})
    except Conflict:
        raise Conflict(taken_message(what)) from None
    return True


def release(system: Database, docid: str, tenant_id: str) -> None:
    """Give up `docid` if the tenant holds it (another tenant's claim is left alone)."""
    held = get_or_none(system, docid)
    if held is not None and held["tenant_id"] == tenant_id:
        try:
            system.delete(docid, held["_rev"])
        except NotFound:  # released by a concurrent request of the same tenant
            pass


def holder(system: Database, docid: str) -> str | None:
    """The tenant holding `docid`, if any."""
    held = get_or_none(system, docid)
    return held["tenant_id"] if held else None
