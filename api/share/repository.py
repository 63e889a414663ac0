"""Storage of share links: two server-only documents in the system database (DOCUMENTS.md).

`sharelink:{tenant}:{sid}:{link}` is the link's record, listed per session by prefix;
`sharetoken:{hash}` finds that record from a presented token in one read, so the token
itself carries nothing but randomness (no tenant, no session id in the address).
"""

from __future__ import annotations

from typing import Any

from sync.store import Database

from ..core.docs import by_prefix, get_or_none, save


def link_doc_id(tenant_id: str, sid: str, link_id: str) -> str:
    return f"sharelink:{tenant_id}:{sid}:{link_id}"


def token_doc_id(token_hash: str) -> str:
    return f"sharetoken:{token_hash}"


def create(system: Database, link: dict[str, Any]) -> dict[str, Any]:
    """Store a new link and its token lookup. The lookup goes second: should the process stop
    between the two writes, the token finds nothing (a 404), never a link without a record."""
    saved = save(system, link)
    save(
        system,
        {
            "_id": token_doc_id(link["token_hash"]),
            "type": "share_token",
            "schema_version": 1,
            "tenant_id": link["tenant_id"],
            "session_id": link["session_id"],
            "link_id": link["link_id"],
        },
    )
    return saved


def links_of(system: Database, tenant_id: str, sid: str) -> list[dict[str, Any]]:
    return by_prefix(system, f"sharelink:{tenant_id}:{sid}:")


def get_link(system: Database, tenant_id: str, sid: str, link_id: str) -> dict[str, Any] | None:
    doc = get_or_none(system, link_doc_id(tenant_id, sid, link_id))
    return doc if doc and doc.get("type") == "share_link" else None


def link_for_token_hash(system: Database, token_hash: str) -> dict[str, Any] | None:
    """The link a token's hash belongs to, or None. The record must name the same hash: a
    lookup document can never point a token at some other link."""
    ref = get_or_none(system, token_doc_id(token_hash))
    if not ref or ref.get("type") != "share_token":
        return None
    link = get_link(system, ref["tenant_id"], ref["session_id"], ref["link_id"])
    if link is None or link.get("token_hash") != token_hash:
        return None
    return link
