"""Trees: drafts edited with `_rev`, immutable published versions, archive, import/export.

Storage in the tenant's `trees` database (it replicates to devices, so sessions can run
offline on the version they pinned):

- `tree:{slug}`: the draft, exactly in the tree format; authors edit it.
- `treever:{slug}:{n}`: published version n, an immutable copy (never edited or deleted).
- `treemeta:{slug}`: the server's sidecar (latest version, timestamps, starter origin), so
  the server never writes into the document authors edit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from sync.access import Principal
from sync.errors import BadRequest, Conflict, NotFound, Unprocessable
from sync.naming import tenant_db
from sync.store import Database

from ..core.context import AppContext
from ..core.docs import by_prefix, check_write_limits, get_or_none, retry_on_conflict, save
from ..core.timeutil import iso
from ..scripts import service as scripts
from ..teams.scopes import scopes_of
from . import version_cache
from .migrations import migrate_tree, migrate_tree_version
from .models import TreeDraft, tree_doc_id, tree_slug, tree_version_doc_id
from .script_refs import script_problems
from .validation import Problem, validate_tree

# Problems that make a body unstorable even as a draft: it is not a tree at all.
SHAPE_CODES = {
    "not_an_object",
    "invalid_field",
    "unknown_field",
    "unknown_node_type",
    "invalid_tree_id",
    "too_many_nodes",
    "invalid_node_id",
}
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def trees_db(ctx: AppContext, tenant_id: str) -> Database:
    return tenant_db(ctx.store, tenant_id, "trees")


def normalize_tree_id(raw: str) -> str:
    slug = tree_slug(raw)
    if not _SLUG_RE.match(slug):
        raise NotFound(f"No tree {raw!r}: tree ids look like tree:citrix-vda-registration.")
    return tree_doc_id(slug)


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:56].strip("-")
    return slug or "tree"


def _meta_id(tree_id: str) -> str:
    return "treemeta:" + tree_slug(tree_id)


def get_meta(db: Database, tree_id: str) -> dict[str, Any]:
    return get_or_none(db, _meta_id(tree_id)) or {
        "_id": _meta_id(tree_id),
        "type": "tree_meta",
        "tree_id": tree_id,
        "latest_version": None,
    }


def touch_meta(db: Database, tree_id: str, **fields: Any) -> dict[str, Any]:
    return retry_on_conflict(
        lambda: save(db, {**get_meta(db, tree_id), **fields}),
        busy="The tree's metadata is being changed by another request; try again.",
    )


def person_of(who: Principal) -> str:
    """The person answerable for what `who` writes: an API key's creator, else the user.

    A key's own id (`apikey:{key_id}`) is nobody a review can bar, so an admin's edit made
    through their key would otherwise leave them free to approve it themselves."""
    creator = who.extra.get("created_by") if who.kind == "apikey" else None
    return creator if isinstance(creator, str) and creator else who.user_id


def touch_edited(db: Database, tree_id: str, who: Principal, rev: str, **fields: Any) -> dict[str, Any]:
    """Record an edit of the draft made through the API: who made revision `rev` (the last
    editor a publish review must not be approved by) and everyone who edited it since the
    latest publish. An edit made with an API key is recorded as its creator's."""
    person = person_of(who)

    def attempt() -> dict[str, Any]:
        meta = get_meta(db, tree_id)
        editors = [e for e in meta.get("editors_since_publish") or [] if e != person]
        return save(
            db,
            {
                **meta,
                **fields,
                "updated_at": iso(),
                "updated_by": person,
                "updated_rev": rev,
                "editors_since_publish": [*editors, person],
            },
        )

    return retry_on_conflict(
        attempt, busy="The tree's metadata is being changed by another request; try again."
    )


def check_shape(body: Any) -> dict[str, Any]:
    """Refuse what is not a tree at all (wrong types, unknown fields); drafts may be incomplete."""
    if not isinstance(body, dict):
        raise BadRequest('The body must be a tree document: a JSON object with "type": "tree".')
    problems = [p for p in validate_tree(body) if p.code in SHAPE_CODES]
    if problems:
        first = problems[0]
        raise BadRequest(
            f"{first.message} ({len(problems)} problem(s) in all; see details.)",
            details=[p.model_dump() for p in problems],
        )
    try:
        TreeDraft.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise BadRequest(f"{where}: {err.get('msg')}. See 'Tree format (v1)' in the docs.") from None
    return body


def _clean(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_") or k in ("_id", "_rev")}


def create_tree(ctx: AppContext, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    body = dict(check_shape(body))
    body.pop("_rev", None)
    db = trees_db(ctx, who.tenant_id)
    explicit = body.get("_id")
    candidates = (
        [explicit]
        if explicit
        else [tree_doc_id(slugify(body.get("title", "")))]
        + [tree_doc_id(f"{slugify(body.get('title', ''))}-{n}") for n in range(2, 50)]
    )
    body.setdefault("type", "tree")
    body.setdefault("schema_version", 1)
    for tree_id in candidates:
        body["_id"] = tree_id
        try:
            check_write_limits(ctx, db, body)
            saved = save(db, _clean(body))
            break
        except Conflict:
            if explicit:
                raise Conflict(
                    f"A tree with the id {tree_id} already exists; choose another id or edit that tree."
                ) from None
    else:
        raise Conflict("Could not find a free id for this title; give the tree an explicit _id.")
    touch_edited(db, saved["_id"], who, saved["_rev"], created_at=iso())
    return saved


def require_team_permission(ctx: AppContext, who: Principal, tree_id: str, permission: str) -> None:
    """Refuse a tree scoped to teams that do not give `who` this permission (api/teams)."""
    scopes_of(ctx).require(who, tree_id, permission)


def get_tree(ctx: AppContext, who: Principal, tree_id: str) -> dict[str, Any]:
    db = trees_db(ctx, who.tenant_id)
    tree_id = normalize_tree_id(tree_id)
    require_team_permission(ctx, who, tree_id, "run")
    try:
        doc = db.get(tree_id, conflicts=True)
    except NotFound:
        raise NotFound(f"No tree {tree_id} in this tenant.") from None
    return migrate_tree(doc, owned=True)


def update_tree(ctx: AppContext, who: Principal, tree_id: str, body: dict[str, Any]) -> dict[str, Any]:
    tree_id = normalize_tree_id(tree_id)
    body = dict(check_shape(body))
    if body.get("_id", tree_id) != tree_id:
        raise BadRequest(f"The body's _id {body.get('_id')!r} does not match the URL's {tree_id}.")
    if not body.get("_rev"):
        raise BadRequest("Send the draft's _rev (from GET) so a newer edit is never overwritten.")
    body["_id"] = tree_id
    require_team_permission(ctx, who, tree_id, "edit")
    db = trees_db(ctx, who.tenant_id)
    if get_or_none(db, tree_id) is None:
        raise NotFound(f"No tree {tree_id} in this tenant; create it with POST /api/v1/trees.")
    try:
        check_write_limits(ctx, db, body)
        saved = save(db, _clean(body))
    except Conflict:
        raise Conflict(
            f"The draft of {tree_id} was changed since you loaded it (your _rev is stale). "
            "Load it again, re-apply your change, and save."
        ) from None
    touch_edited(db, tree_id, who, saved["_rev"])
    return saved


def archive_tree(ctx: AppContext, who: Principal, tree_id: str) -> dict[str, Any]:
    """Hide a tree from the library; its versions stay readable for sessions that pinned them."""
    tree_id = normalize_tree_id(tree_id)
    require_team_permission(ctx, who, tree_id, "edit")
    db = trees_db(ctx, who.tenant_id)

    def attempt() -> tuple[dict[str, Any], bool]:
        doc = get_or_none(db, tree_id)
        if doc is None:
            raise NotFound(f"No tree {tree_id} in this tenant.")
        if doc.get("archived"):
            return doc, False
        doc["archived"] = True
        return save(db, doc), True

    saved, archived_now = retry_on_conflict(
        attempt, busy="The tree is being edited right now; try archiving again."
    )
    if archived_now:
        touch_edited(db, tree_id, who, saved["_rev"], archived_at=iso())
    return saved


def publish(
    ctx: AppContext,
    who: Principal,
    tree_id: str,
    *,
    change_note: str = "",
    rev: str | None = None,
    approval: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """Freeze the current draft as the next version. The draft must be valid.

    `approval(draft, meta)` is asked about the exact revision being frozen (the publish
    reviews feature): it raises when that revision may not be published, and answers the
    approved review's summary, kept in the version, or None when no approval is needed."""
    tree_id = normalize_tree_id(tree_id)
    require_team_permission(ctx, who, tree_id, "publish")
    db = trees_db(ctx, who.tenant_id)
    draft = get_or_none(db, tree_id)
    if draft is None:
        raise NotFound(f"No tree {tree_id} in this tenant.")
    if rev and draft["_rev"] != rev:
        raise Conflict("The draft changed since you loaded it; reload it and publish again.")
    draft = migrate_tree(draft, owned=True)
    problems = all_problems(ctx, who.tenant_id, draft)
    if problems:
        raise Unprocessable(
            f"The draft has {len(problems)} problem(s) to fix before it can be published; the first: "
            f"{problems[0].message}",
            error="invalid_tree",
            details=[p.model_dump() for p in problems],
        )
    review = approval(draft, get_meta(db, tree_id)) if approval else None
    frozen = {k: v for k, v in draft.items() if not k.startswith("_") or k == "_id"}
    frozen.pop("archived", None)

    def attempt() -> dict[str, Any]:
        # A conflict: someone published the same number a moment ago; take the next.
        latest = get_meta(db, tree_id).get("latest_version") or 0
        version = latest + 1
        return save(
            db,
            {
                "_id": tree_version_doc_id(tree_id, version),
                "type": "tree_version",
                "schema_version": 1,
                "tree_id": tree_id,
                "version": version,
                "published_at": iso(),
                "published_by": who.user_id,
                "change_note": (change_note or "").strip()[:2000],
                "tree": frozen,
                **({"review": review} if review else {}),
            },
        )

    saved = retry_on_conflict(attempt, busy="Several publishes of this tree are racing; try again.")
    touch_meta(
        db,
        tree_id,
        latest_version=saved["version"],
        published_at=saved["published_at"],
        published_rev=draft["_rev"],
        editors_since_publish=[],
    )
    return saved


def list_versions(ctx: AppContext, who: Principal, tree_id: str) -> list[dict[str, Any]]:
    tree_id = normalize_tree_id(tree_id)
    require_team_permission(ctx, who, tree_id, "run")
    db = trees_db(ctx, who.tenant_id)
    docs = [d for d in by_prefix(db, f"treever:{tree_slug(tree_id)}:") if d.get("tree_id") == tree_id]
    if not docs and get_or_none(db, tree_id) is None:
        raise NotFound(f"No tree {tree_id} in this tenant.")
    docs.sort(key=lambda d: d["version"], reverse=True)
    return [
        {
            "version": d["version"],
            "published_at": d["published_at"],
            "published_by": d["published_by"],
            "change_note": d.get("change_note", ""),
            "id": d["_id"],
            "review": d.get("review"),
        }
        for d in docs
    ]


def get_version(ctx: AppContext, who: Principal, tree_id: str, version: int | None) -> dict[str, Any]:
    """A published version (the latest when `version` is None)."""
    tree_id = normalize_tree_id(tree_id)
    db = trees_db(ctx, who.tenant_id)
    if version is None:
        version = get_meta(db, tree_id).get("latest_version")
        if not version:
            raise NotFound(f"{tree_id} has no published version yet; publish it first.")
    docid = tree_version_doc_id(tree_id, version)

    def read() -> dict[str, Any] | None:
        doc = get_or_none(db, docid)
        return None if doc is None else migrate_tree_version(doc, owned=True)

    found = version_cache.version_doc(ctx.tree_versions, db.name, docid, read)
    if found is None:
        raise NotFound(f"{tree_id} has no version {version}.")
    return found


EXPORT_FORMAT = "branchline.tree"


def export_tree(ctx: AppContext, who: Principal, tree_id: str) -> dict[str, Any]:
    """The draft as a portable JSON file: the tree document without revision metadata."""
    doc = get_tree(ctx, who, tree_id)
    return {k: v for k, v in doc.items() if not k.startswith("_") or k == "_id"}


def import_tree(
    ctx: AppContext, who: Principal, body: dict[str, Any], *, replace: bool = False
) -> dict[str, Any]:
    """Import an exported tree as a draft. With `replace`, an existing draft of that id is
    overwritten (its history stays in the revision tree); without, an existing id is a 409."""
    body = dict(check_shape(body))
    body.pop("_rev", None)
    if not body.get("_id"):
        return create_tree(ctx, who, body)
    tree_id = normalize_tree_id(body["_id"])
    db = trees_db(ctx, who.tenant_id)
    current = get_or_none(db, tree_id)
    if current is None:
        return create_tree(ctx, who, body)
    if not replace:
        raise Conflict(
            f"A tree with the id {tree_id} already exists; import with ?replace=true to "
            "overwrite its draft, or change the _id in the file."
        )
    body["_rev"] = current["_rev"]
    check_write_limits(ctx, db, body)
    saved = save(db, _clean(body))
    touch_edited(db, tree_id, who, saved["_rev"])
    return saved


def migrate_stored(ctx: AppContext, tenant_id: str, *, dry_run: bool = False) -> dict[str, int]:
    """Rewrite a tenant's trees and versions stored at an older `schema_version` (the
    `branchline migrate` command). Reading already migrates in memory; this makes it
    permanent so older clients and other tools see the current format."""
    from .models import TREE_SCHEMA_VERSION  # noqa: PLC0415

    db = trees_db(ctx, tenant_id)
    counts = {"checked": 0, "migrated": 0}
    for prefix, migrate in (("tree:", migrate_tree), ("treever:", migrate_tree_version)):
        for doc in by_prefix(db, prefix):
            counts["checked"] += 1
            if doc.get("schema_version") == TREE_SCHEMA_VERSION:
                continue
            upgraded = migrate(doc)
            counts["migrated"] += 1
            if not dry_run:
                try:
                    save(db, upgraded)
                except Conflict:
                    counts["migrated"] -= 1  # edited meanwhile; the edit stored the current version
    return counts


def rollback(ctx: AppContext, who: Principal, tree_id: str, *, version: int, rev: str) -> dict[str, Any]:
    """Copy published `version` into the draft, if the draft is still at `rev`.

    The draft's edits since then stay in its revision history; publishing afterwards makes
    the old content the newest version, so sessions pinned to any version are untouched.
    """
    tree_id = normalize_tree_id(tree_id)
    require_team_permission(ctx, who, tree_id, "edit")
    db = trees_db(ctx, who.tenant_id)
    draft = get_or_none(db, tree_id)
    if draft is None:
        raise NotFound(f"No tree {tree_id} in this tenant.")
    if not rev:
        raise BadRequest("Send the draft's _rev (from GET) so a newer edit is never overwritten.")
    frozen = get_version(ctx, who, tree_id, version)["tree"]
    if draft["_rev"] != rev:
        raise Conflict(
            f"The draft of {tree_id} was changed since you loaded it (your _rev is stale). "
            "Load it again and roll back from there."
        )
    body = {k: v for k, v in frozen.items() if not k.startswith("_")}
    body.update({"_id": tree_id, "_rev": draft["_rev"]})
    if draft.get("archived"):
        body["archived"] = True
    try:
        check_write_limits(ctx, db, body)
        saved = save(db, body)
    except Conflict:
        raise Conflict(
            f"The draft of {tree_id} was changed a moment ago; load it again and roll back."
        ) from None
    touch_edited(db, tree_id, who, saved["_rev"], rolled_back_to=version)
    return saved


def all_problems(ctx: AppContext, tenant_id: str, tree: Any) -> list[Problem]:
    """What publishing refuses: the tree's own problems, then its steps' scripts checked
    against the team's published library (read only when a step names a script)."""
    problems = validate_tree(tree)
    nodes = tree.get("nodes") if isinstance(tree, dict) else None
    if isinstance(nodes, dict) and any(isinstance(n, dict) and n.get("script") for n in nodes.values()):
        problems += script_problems(tree, scripts.published_library(ctx, tenant_id))
    return problems
