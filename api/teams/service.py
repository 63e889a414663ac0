"""Creating and changing teams, and setting which teams a tree belongs to."""

from __future__ import annotations

from typing import Any

from sync.access import Principal
from sync.errors import BadRequest, NotFound
from sync.naming import tenant_db
from sync.seq import seq_number

from ..core.docs import get_or_none, retry_on_conflict, save
from ..core.ids import new_id
from ..core.timeutil import iso
from ..users import repository as users
from . import repository as repo
from .scopes import clean_teams

_BUSY = "The team is being changed by another request; try again."


def _trees_seq(ctx: Any, tenant_id: str) -> int:
    """The trees database's seq now: what joined at this point is sent to devices from here."""
    return seq_number(tenant_db(ctx.store, tenant_id, "trees").update_seq) or 0


def _check_members(ctx: Any, tenant_id: str, members: list[str]) -> list[str]:
    out = []
    for user_id in members:
        if users.get_user(ctx.system, tenant_id, user_id) is None:
            raise BadRequest(f"No user {user_id} in this tenant; see GET /api/v1/users for the ids.")
        if user_id not in out:
            out.append(user_id)
    return out


def _joined(ctx: Any, tenant_id: str, before: dict[str, int], members: list[str]) -> dict[str, int]:
    """Each member's seq of joining: kept for those who stay, now for newcomers."""
    now = None
    out = {}
    for user_id in members:
        if user_id in before:
            out[user_id] = before[user_id]
            continue
        now = _trees_seq(ctx, tenant_id) if now is None else now
        out[user_id] = now
    return out


def create(ctx: Any, who: Principal, *, name: str, members: list[str]) -> dict[str, Any]:
    members = _check_members(ctx, who.tenant_id, members)
    team_id = new_id()
    now = iso()
    doc = {
        "_id": repo.team_doc_id(who.tenant_id, team_id),
        "type": "team",
        "tenant_id": who.tenant_id,
        "team_id": team_id,
        "name": name.strip(),
        "members": members,
        "joined_seq": _joined(ctx, who.tenant_id, {}, members),
        "created_at": now,
        "updated_at": now,
    }
    return save(ctx.system, doc)


def update(
    ctx: Any, who: Principal, team_id: str, *, name: str | None, members: list[str] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) of the change."""
    if members is not None:
        members = _check_members(ctx, who.tenant_id, members)

    def attempt() -> tuple[dict[str, Any], dict[str, Any]]:
        before = repo.require_team(ctx.system, who.tenant_id, team_id)
        doc = dict(before)
        if name is not None:
            doc["name"] = name.strip()
        if members is not None:
            doc["members"] = members
            doc["joined_seq"] = _joined(ctx, who.tenant_id, before.get("joined_seq") or {}, members)
        doc["updated_at"] = iso()
        return before, save(ctx.system, doc)

    return retry_on_conflict(attempt, busy=_BUSY)


def delete(ctx: Any, who: Principal, team_id: str) -> dict[str, Any]:
    doc = repo.require_team(ctx.system, who.tenant_id, team_id)
    ctx.system.delete(doc["_id"], doc["_rev"])
    return doc


def set_tree_teams(ctx: Any, who: Principal, tree_id: str, teams: dict[str, list[str]]) -> dict[str, Any]:
    """Give the tree these teams (an empty map opens it to everyone); answers the sidecar."""
    from ..trees.service import get_meta, normalize_tree_id  # noqa: PLC0415  (trees use teams' rules)

    tree_id = normalize_tree_id(tree_id)
    for team_id in teams:
        repo.require_team(ctx.system, who.tenant_id, team_id)
    db = tenant_db(ctx.store, who.tenant_id, "trees")
    if get_or_none(db, tree_id) is None:
        raise NotFound(f"No tree {tree_id} in this tenant.")
    wanted = clean_teams(teams)

    def attempt() -> dict[str, Any]:
        meta = get_meta(db, tree_id)
        # The seq before this write: devices synced up to here may lack the tree's documents.
        return save(db, {**meta, "teams": wanted, "teams_seq": _trees_seq(ctx, who.tenant_id)})

    return retry_on_conflict(
        attempt, busy="The tree's metadata is being changed by another request; try again."
    )
