"""Team documents (`team:{tenant}:{team}`) in the system database, beside the users they group."""

from __future__ import annotations

from typing import Any

from sync.errors import NotFound
from sync.store import Database

from ..core.docs import by_prefix, get_or_none


def team_doc_id(tenant_id: str, team_id: str) -> str:
    return f"team:{tenant_id}:{team_id}"


def tenant_of_team_doc(docid: str) -> str | None:
    parts = docid.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "team" else None


def list_teams(system: Database, tenant_id: str) -> list[dict[str, Any]]:
    return by_prefix(system, f"team:{tenant_id}:")


def require_team(system: Database, tenant_id: str, team_id: str) -> dict[str, Any]:
    doc = get_or_none(system, team_doc_id(tenant_id, team_id))
    if doc is None:
        raise NotFound(f"No team {team_id} in this tenant; see GET /api/v1/teams.")
    return doc


def public_team(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["team_id"],
        "name": doc["name"],
        "members": list(doc.get("members") or []),
        "created_at": doc.get("created_at"),
        "updated_at": doc.get("updated_at"),
    }
