"""Creating and changing teams, and setting which teams a tree belongs to."""

from __future__ import annotations

from typing import Any

from sync.access import Principal
from sync.errors import BadRequest, NotFound
from sync.seq import seq_number

from ..core.docs import by_prefix, get_or_none, retry_on_conflict, save
from ..core.ids import new_id
from ..core.timeutil import iso
from ..users import repository as users
from . import repository as repo
from .scopes import clean_teams, trees_db_of

_BUSY = "The team is being changed by another request; try again."


def _trees_seq(ctx: Any, tenant_id: str) -> int:
    """The trees database's seq now: what joined at this point is sent to devices from here."""
    return seq_number(trees_db_of(ctx, tenant_id).update_seq) or 0


def _check_members(ctx: Any, tenant_id: str, members: list[str]) -> list[str]:
    out = []
    for user_id in members:
        if users.get_user(ctx.system, tenant_id, user_id) is None:
            raise BadRequest(f"No user {user_id} in this tenant; see GET /api/v1/users for the ids.")
        if user_id not in out:
            out.append(user_id)
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
        doc["updated_at"] = iso()
        return before, save(ctx.system, doc)

    before, after = retry_on_conflict(attempt, busy=_BUSY)
    if set(after["members"]) - set(before.get("members") or []):
        _mark_trees_granted(ctx, who.tenant_id, team_id)
    return before, after


def _mark_trees_granted(ctx: Any, tenant_id: str, team_id: str) -> None:
    """Newcomers may now read the team's trees, whose documents are older than their devices'
    checkpoints: record the seq before this write in each sidecar (`teams_seq`), so their
    next `_changes` sends those documents (`TreesRules.extra_changes_ids`)."""
    db = trees_db_of(ctx, tenant_id)
    for meta in by_prefix(db, "treemeta:"):
        if team_id not in clean_teams(meta.get("teams")):
            continue

        def attempt(docid: str = meta["_id"]) -> dict[str, Any]:
            return save(db, {**db.get(docid), "teams_seq": _trees_seq(ctx, tenant_id)})

        retry_on_conflict(attempt, busy="A tree's metadata is being changed by another request; try again.")


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
    db = trees_db_of(ctx, who.tenant_id)
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
