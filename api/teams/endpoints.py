"""Routes: teams (owners and admins), and the teams a tree belongs to."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..audit import service as audit
from ..core.deps import AdminDep, CtxDep, PrincipalDep, client_address
from . import repository as repo, service
from .scopes import clean_teams, scopes_of, trees_db_of

router = APIRouter(prefix="/api/v1", tags=["teams"])

UserId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Permission = Literal["run", "edit", "publish"]


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    members: list[UserId] = Field(default_factory=list, max_length=1000)


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    members: list[UserId] | None = Field(default=None, max_length=1000)


class TreeTeams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    teams: dict[str, list[Permission]] = Field(
        description="Team id -> what its members may do: run, edit, publish. Empty: open to everyone.",
        max_length=100,
    )


@router.get("/teams")
def list_teams(who: AdminDep, ctx: CtxDep) -> dict:
    """The tenant's teams, `{items, next_cursor}` (owners and admins)."""
    items = [repo.public_team(d) for d in repo.list_teams(ctx.system, who.tenant_id)]
    return {"items": items, "next_cursor": None}


@router.post("/teams", status_code=201)
def create_team(body: TeamCreate, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Create a team of the tenant's users (`members`: user ids)."""
    team = repo.public_team(service.create(ctx, who, name=body.name, members=body.members))
    audit.record(
        ctx,
        who,
        "team.created",
        "team",
        team["id"],
        ip=client_address(request),
        details={"name": team["name"], "members": team["members"]},
    )
    return team


@router.get("/teams/{team_id}")
def get_team(team_id: str, who: AdminDep, ctx: CtxDep) -> dict:
    """One team: `{id, name, members, created_at, updated_at}`."""
    return repo.public_team(repo.require_team(ctx.system, who.tenant_id, team_id))


@router.patch("/teams/{team_id}")
def update_team(team_id: str, body: TeamUpdate, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Rename a team or replace its members; a removed member stops receiving its trees at
    their next sync, one added receives them."""
    before, after = service.update(ctx, who, team_id, name=body.name, members=body.members)
    details = {}
    if before["name"] != after["name"]:
        details["name"] = {"from": before["name"], "to": after["name"]}
    if before.get("members") != after.get("members"):
        details["members"] = {"from": before.get("members") or [], "to": after["members"]}
    audit.record(ctx, who, "team.updated", "team", team_id, ip=client_address(request), details=details)
    return repo.public_team(after)


@router.delete("/teams/{team_id}")
def delete_team(team_id: str, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Delete a team. Trees that named it keep the name: a tree left with no existing team is
    reached by owners and admins only, until they change its teams."""
    doc = service.delete(ctx, who, team_id)
    audit.record(
        ctx, who, "team.deleted", "team", team_id, ip=client_address(request), details={"name": doc["name"]}
    )
    return {"ok": True, "id": team_id}


@router.get("/trees/{tree_id}/teams")
def get_tree_teams(tree_id: str, who: PrincipalDep, ctx: CtxDep) -> dict:
    """The teams the tree belongs to (empty: open to everyone) and what the caller may do with it."""
    from ..trees.service import get_meta, get_tree  # noqa: PLC0415

    tree_id = get_tree(ctx, who, tree_id)["_id"]  # a tree of this tenant the caller may run
    meta = get_meta(trees_db_of(ctx, who.tenant_id), tree_id)
    return {
        "tree_id": tree_id,
        "teams": clean_teams(meta.get("teams")),
        "permissions": sorted(scopes_of(ctx).permissions(who, tree_id)),
    }


@router.put("/trees/{tree_id}/teams")
def set_tree_teams(tree_id: str, body: TreeTeams, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Scope a tree to teams (owners and admins). Engineers outside them stop receiving it at
    their next sync; copies already on a device stay there until the app is reset."""
    meta = service.set_tree_teams(ctx, who, tree_id, {t: list(p) for t, p in body.teams.items()})
    audit.record(
        ctx,
        who,
        "tree.teams_changed",
        "tree",
        meta["tree_id"],
        ip=client_address(request),
        details={"teams": meta["teams"]},
    )
    return {"tree_id": meta["tree_id"], "teams": meta["teams"]}
