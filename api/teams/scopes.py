"""Which trees a user may run, edit and publish, by their teams (DOCUMENTS.md, "Teams").

A tree's `treemeta:` sidecar may name teams and what each may do with it (`teams:
{team_id: ["run", "edit", "publish"]}`). A tree naming no team is open to every role, as
before teams existed; owners and admins always reach every tree. Anyone else reaches a
scoped tree only through a team they belong to: "run" to run it (and to receive it over
sync), "edit" to change its draft, "publish" to publish it. Any of the three lets a user
read the tree, since editing or publishing what one cannot see makes no sense.

Every sync request of a non-admin asks this, so the tenant's scoping (from the sidecars)
and its teams (from the system database) are kept in `ObservedCache`s, dropped the moment a
sidecar or a team is written: a membership change is in force for the very next request.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from sync.access import Principal
from sync.errors import Forbidden
from sync.naming import SYSTEM_DB, parse_physical, physical_name, tenant_db
from sync.observed_cache import ObservedCache
from sync.seq import seq_number

from ..core.docs import by_prefix
from . import repository as repo

PERMISSIONS = ("run", "edit", "publish")
# The trees database's documents that belong to one tree, by the prefix before its slug.
TREE_PREFIXES = ("tree:", "treever:", "treemeta:", "treestarter:", "treesug:", "treereview:")


@dataclass(frozen=True)
class Scoping:
    """A tenant's scoped trees: tree id -> team id -> permissions; and per tree the trees
    database's seq just before its teams, or the members of one of them, last changed (for
    trees that became readable to someone)."""

    trees: Mapping[str, Mapping[str, frozenset[str]]]
    changed_seq: Mapping[str, int]


@dataclass(frozen=True)
class Membership:
    """The ids of one user's teams."""

    teams: frozenset[str]


def tree_id_of(docid: str) -> str | None:
    """The tree a `trees` document belongs to (`treever:abc:3` -> `tree:abc`), else None."""
    for prefix in TREE_PREFIXES:
        if docid.startswith(prefix):
            slug = docid[len(prefix) :].split(":", 1)[0]
            return "tree:" + slug if slug else None
    return None


def clean_teams(raw: Any) -> dict[str, list[str]]:
    """A sidecar's `teams` as stored (anything malformed counts as no team)."""
    if not isinstance(raw, dict):
        return {}
    return {
        t: [p for p in PERMISSIONS if p in perms]
        for t, perms in raw.items()
        if isinstance(t, str) and isinstance(perms, list)
    }


def scoping_of(metas: list[dict[str, Any]]) -> Scoping:
    trees: dict[str, dict[str, frozenset[str]]] = {}
    changed: dict[str, int] = {}
    for meta in metas:
        tree_id = meta.get("tree_id") or tree_id_of(meta.get("_id", ""))
        if not isinstance(tree_id, str):
            continue
        teams = clean_teams(meta.get("teams"))
        if teams:
            trees[tree_id] = {t: frozenset(p) for t, p in teams.items()}
        seq = meta.get("teams_seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            changed[tree_id] = seq
    return Scoping(trees, changed)


def membership_of(teams: list[dict[str, Any]], user_id: str) -> Membership:
    return Membership(frozenset(t["team_id"] for t in teams if user_id in (t.get("members") or [])))


def permissions(principal: Principal, tree_id: str, scoping: Scoping, member: Membership) -> frozenset[str]:
    """What `principal` may do with the tree: every permission when it is open or they are an admin."""
    teams = scoping.trees.get(tree_id)
    if principal.is_admin or not teams:
        return frozenset(PERMISSIONS)
    out: set[str] = set()
    for team_id, perms in teams.items():
        if team_id in member.teams:
            out |= perms
    return frozenset(out)


def may_read(principal: Principal, tree_id: str, scoping: Scoping, member: Membership) -> bool:
    return bool(permissions(principal, tree_id, scoping, member))


def hidden_trees(principal: Principal, scoping: Scoping, member: Membership) -> frozenset[str]:
    """The scoped trees `principal` may not read (empty for admins)."""
    return frozenset(t for t in scoping.trees if not may_read(principal, t, scoping, member))


def readable_since(principal: Principal, scoping: Scoping, member: Membership, since: int) -> list[str]:
    """Trees `principal` may read now and perhaps could not at `since` (a trees seq): those
    whose teams, or whose teams' members, changed at or after it. The change itself is a
    later write of the tree's sidecar, so a device that synced past it is not sent them again."""
    return [
        tree_id
        for tree_id, changed in scoping.changed_seq.items()
        if changed >= since and may_read(principal, tree_id, scoping, member)
    ]


def ids_of_trees(db: Any, tree_ids: list[str]) -> set[str]:
    """Every stored document id of these trees in the `trees` database."""
    ids: set[str] = set()
    for tree_id in tree_ids:
        slug = tree_id.split(":", 1)[1]
        for prefix in TREE_PREFIXES:
            key = prefix + slug
            rows = db.all_docs(startkey=key, endkey=key + ":\ufff0", offset=False)["rows"]
            ids.update(r["id"] for r in rows if r["id"] == key or r["id"].startswith(key + ":"))
    return ids


def trees_db_of(ctx: Any, tenant_id: str) -> Any:
    return tenant_db(ctx.store, tenant_id, "trees")


def _scope_of_trees_db(db_name: str) -> Hashable | None:
    parsed = parse_physical(db_name)
    return parsed.tenant_id if parsed is not None and parsed.name == "trees" else None


def _system_scope(db_name: str) -> Hashable | None:
    return db_name if db_name == SYSTEM_DB else None


_ALL = "all"
# The scoping is read from all of a tenant's `treemeta:` documents at once: they are one group
# for caches across processes (`sync.observed_cache._GROUPED`).


class TreeScopes:
    """The tenant's scoping and teams, read through caches the store keeps current."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self._metas = ObservedCache[Scoping](
            _scope_of_trees_db,
            lambda _docid: (_ALL,),
            id_prefix="treemeta:",
            source=lambda tenant, _all: (physical_name(str(tenant), "trees"), "treemeta:"),
        ).attach(ctx.store)
        self._teams = ObservedCache[tuple[dict[str, Any], ...]](
            _system_scope,
            lambda docid: (repo.tenant_of_team_doc(docid),),
            id_prefix="team:",
            source=lambda _system, tenant: (SYSTEM_DB, f"team:{tenant}"),
        ).attach(ctx.store)

    def scoping(self, tenant_id: str) -> Scoping:
        def read() -> Scoping:
            return scoping_of(by_prefix(trees_db_of(self.ctx, tenant_id), "treemeta:"))

        return read() if self._metas is None else self._metas.get(tenant_id, _ALL, read)

    def teams(self, tenant_id: str) -> tuple[dict[str, Any], ...]:
        def read() -> tuple[dict[str, Any], ...]:
            return tuple(repo.list_teams(self.ctx.system, tenant_id))

        return read() if self._teams is None else self._teams.get(SYSTEM_DB, tenant_id, read)

    def view(self, principal: Principal) -> tuple[Scoping, Membership]:
        return self.scoping(principal.tenant_id), membership_of(
            list(self.teams(principal.tenant_id)), principal.user_id
        )

    def permissions(self, principal: Principal, tree_id: str) -> frozenset[str]:
        if principal.is_admin:
            return frozenset(PERMISSIONS)
        return permissions(principal, tree_id, *self.view(principal))

    def hidden(self, principal: Principal) -> frozenset[str]:
        if principal.is_admin:
            return frozenset()
        return hidden_trees(principal, *self.view(principal))

    def require(self, principal: Principal, tree_id: str, permission: str) -> None:
        """Raise `Forbidden` unless `principal` may `permission` the tree (run, edit, publish)."""
        perms = self.permissions(principal, tree_id)
        if permission in perms:
            return
        if not perms:
            raise Forbidden(
                f"{tree_id} belongs to teams you are not in; ask an owner or admin to add you "
                "to one of its teams (GET /api/v1/trees/{id}/teams lists them)."
            )
        raise Forbidden(
            f"Your teams may {', '.join(sorted(perms))} {tree_id} but not {permission} it; ask an "
            f"owner or admin to give one of your teams the {permission!r} permission."
        )


def scopes_of(ctx: Any) -> TreeScopes:
    """The context's `TreeScopes`, made on first use (one per process)."""
    scopes = getattr(ctx, "tree_scopes", None)
    if scopes is None:
        scopes = ctx.tree_scopes = TreeScopes(ctx)
    return scopes


def since_number(since: Any) -> int:
    number = seq_number(since) if since not in (None, "", "now") else 0
    return number or 0
