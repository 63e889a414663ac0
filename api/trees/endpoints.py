"""Routes: the tree library, drafts, validation, publishing, versions, import and export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from sync.errors import BadRequest

from ..audit import service as audit
from ..core.deps import AuthorDep, CtxDep, PageDep, PrincipalDep, client_address
from ..core.derived import tenant_index
from ..core.openapi import errors
from ..core.responses import JSONAnswer
from ..freshness import service as freshness
from ..publishreview import service as publish_reviews
from ..teams.scopes import scopes_of
from . import library, service, suggestions
from .checklist import checklist_layout, render_html as render_checklist
from .models import NODE_ID_PATTERN

router = APIRouter(prefix="/api/v1", tags=["trees"])

TreeBody = Annotated[dict[str, Any], Body(description="A tree document in the tree format (v1).")]


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    change_note: str = Field(default="", max_length=2000)
    rev: str | None = Field(
        default=None, alias="_rev", description="Publish only if the draft is still at this revision."
    )


@router.get("/trees")
def list_trees(
    who: PrincipalDep,
    ctx: CtxDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200, description="Full-text search")] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    sort: Annotated[Literal["name", "updated", "usage"] | None, Query()] = None,
    include_archived: bool = False,
) -> dict:
    """The library: filter by `category` or `tag`, sort by `name`, `updated` or `usage`, or search
    with `q` (ranked by relevance over titles, tags, descriptions and node text)."""
    offset = int(page.after() or 0)
    rows = library.search(
        tenant_index(ctx, who.tenant_id),
        hidden=scopes_of(ctx).hidden(who),
        q=q,
        category=category,
        tag=tag,
        sort=sort,
        include_archived=include_archived,
        limit=page.limit + 1,
        offset=offset,
    )
    out = page.answer(rows, lambda _row: offset + page.limit)
    return out


@router.get("/trees/categories")
def list_categories(who: PrincipalDep, ctx: CtxDep) -> dict:
    """The categories in use, with how many trees each holds."""
    items = library.categories(tenant_index(ctx, who.tenant_id), hidden=scopes_of(ctx).hidden(who))
    return {"items": items, "next_cursor": None}


@router.post("/trees", status_code=201)
def create_tree(body: TreeBody, who: AuthorDep, ctx: CtxDep) -> dict:
    """Create a draft. Without `_id`, one is derived from the title. Drafts may be incomplete;
    only a body that is not a tree at all (wrong types, unknown fields) is refused."""
    saved = service.create_tree(ctx, who, body)
    return {"ok": True, "id": saved["_id"], "rev": saved["_rev"]}


@router.post("/trees/validate")
def validate(body: Annotated[Any, Body()], who: PrincipalDep, ctx: CtxDep) -> dict:
    """Check a tree and list every problem at once: `{valid, problems: [{node_id, code, message}]}`.
    An action step's `script` is also checked against the team's published scripts
    (`unknown_script`, `unknown_script_parameter`, `missing_script_parameter`,
    `secret_script_parameter`)."""
    problems = service.all_problems(ctx, who.tenant_id, body)
    return {"valid": not problems, "problems": [p.model_dump() for p in problems]}


@router.post("/trees/import", status_code=201)
def import_tree(body: TreeBody, who: AuthorDep, ctx: CtxDep, request: Request, replace: bool = False) -> dict:
    """Import a tree exported with `GET /trees/{id}/export` as a draft (`replace=true` to
    overwrite an existing draft of the same id)."""
    saved = service.import_tree(ctx, who, body, replace=replace)
    audit.record(
        ctx,
        who,
        "tree.imported",
        "tree",
        saved["_id"],
        ip=client_address(request),
        details={"replace": replace},
    )
    return {"ok": True, "id": saved["_id"], "rev": saved["_rev"]}


@router.get("/trees/{tree_id}")
def get_tree(tree_id: str, who: PrincipalDep, ctx: CtxDep) -> dict:
    """The draft with its `_rev` (and `_conflicts` when two edits collided)."""
    return service.get_tree(ctx, who, tree_id)


@router.put("/trees/{tree_id}", responses=errors({409: "The `_rev` is stale: load the draft again."}))
def update_tree(tree_id: str, body: TreeBody, who: AuthorDep, ctx: CtxDep) -> dict:
    """Save the draft. The body carries the `_rev` it was loaded at; a stale `_rev` is a 409."""
    saved = service.update_tree(ctx, who, tree_id, body)
    return {"ok": True, "id": saved["_id"], "rev": saved["_rev"]}


@router.delete("/trees/{tree_id}")
def archive_tree(tree_id: str, who: AuthorDep, ctx: CtxDep, request: Request) -> dict:
    """Archive a tree: it leaves the library; its published versions stay readable for sessions."""
    saved = service.archive_tree(ctx, who, tree_id)
    freshness.clear_tree(ctx, who.tenant_id, saved["_id"])  # out of the library, out of the list
    audit.record(ctx, who, "tree.archived", "tree", saved["_id"], ip=client_address(request))
    return {"ok": True, "id": saved["_id"], "rev": saved["_rev"], "archived": True}


@router.post(
    "/trees/{tree_id}/publish",
    status_code=201,
    responses=errors(
        {
            409: "The draft changed since `_rev`, or (`approval_required`) the workspace requires an "
            "approved review of this exact draft revision by someone other than its last editor."
        }
    ),
)
def publish(
    tree_id: str, who: AuthorDep, ctx: CtxDep, request: Request, body: PublishRequest | None = None
) -> dict:
    """Publish the draft as the next immutable version. A draft with problems is refused with
    422 and the full list of problems in `details`. With the workspace setting
    `require_approval` (`PUT /tenant/publishing`), the exact draft revision needs an approved
    review (`POST /trees/{id}/reviews`) by someone other than its last editor, else 409
    `approval_required`. Publishing clears the tree's freshness flags (see `GET
    /trees/attention`) and restarts its review interval."""
    body = body or PublishRequest()
    doc = service.publish(
        ctx,
        who,
        tree_id,
        change_note=body.change_note,
        rev=body.rev,
        approval=publish_reviews.publish_gate(ctx, who),
    )
    freshness.clear_tree(ctx, who.tenant_id, doc["tree_id"])  # a new version answers its flags
    review = doc.get("review")
    if review:
        publish_reviews.mark_published(ctx, who.tenant_id, doc["tree_id"], review["id"], doc["version"])
    audit.record(
        ctx,
        who,
        "tree.published",
        "tree",
        doc["tree_id"],
        ip=client_address(request),
        details={"version": doc["version"], **({"review_id": review["id"]} if review else {})},
    )
    return {"ok": True, "id": doc["_id"], "version": doc["version"], "published_at": doc["published_at"]}


@router.get("/trees/{tree_id}/versions")
def list_versions(tree_id: str, who: PrincipalDep, ctx: CtxDep) -> dict:
    """Published versions, newest first."""
    return {"items": service.list_versions(ctx, who, tree_id), "next_cursor": None}


@router.get("/trees/{tree_id}/versions/{version}")
def get_version(tree_id: str, version: int, who: PrincipalDep, ctx: CtxDep) -> dict:
    """One published version, as frozen."""
    service.require_team_permission(ctx, who, service.normalize_tree_id(tree_id), "run")
    return service.get_version(ctx, who, tree_id, version)


# The printable checklist is a document of its own, like the HTML export: no script at all.
_CHECKLIST_HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


@router.get(
    "/trees/{tree_id}/checklist",
    response_class=Response,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}, "application/json": {}}},
        **errors({404: "No such tree, no such version, or the tree was never published."}),
    },
)
def tree_checklist(
    tree_id: str,
    who: PrincipalDep,
    ctx: CtxDep,
    version: Annotated[
        int | None, Query(ge=1, description="A published version; the latest when left out.")
    ] = None,
    format: Annotated[
        Literal["html", "json"], Query(description="`html` to print, `json` the layout.")
    ] = "html",
) -> Response:
    """The simplified checklist of a published version, for paper: one printed page per branch
    (the answers of the tree's first decision), each step a checkbox with the answers leading
    on ("Yes → go to step 4"), numbered once for the whole tree; shared steps and loops are
    printed once and referred to by number. `json` answers the layout itself (`pages`, each with
    its `steps` and their `answers`); the rules are in `api/trees/checklist.py`."""
    service.require_team_permission(ctx, who, service.normalize_tree_id(tree_id), "run")
    doc = service.get_version(ctx, who, tree_id, version)
    layout = checklist_layout(doc["tree"])
    if format == "json":
        return JSONAnswer({**layout, "tree_id": doc["tree_id"], "version": doc["version"]})
    return Response(
        render_checklist(layout, doc["version"]),
        media_type="text/html; charset=utf-8",
        headers=_CHECKLIST_HTML_HEADERS,
    )


@router.get("/trees/{tree_id}/export")
def export_tree(tree_id: str, who: PrincipalDep, ctx: CtxDep) -> Response:
    """The draft as a JSON file for `POST /trees/import`."""
    doc = service.export_tree(ctx, who, tree_id)
    name = doc["_id"].split(":", 1)[1]
    return JSONAnswer(doc, headers={"Content-Disposition": f'attachment; filename="{name}.tree.json"'})


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, description="The published version to copy into the draft.")
    rev: str = Field(alias="_rev", min_length=1, description="The draft's current `_rev`; stale is a 409.")


@router.post("/trees/{tree_id}/rollback")
def rollback(tree_id: str, body: RollbackRequest, who: AuthorDep, ctx: CtxDep, request: Request) -> dict:
    """Replace the draft with a copy of published `version` (the draft must still be at
    `_rev`). Publish afterwards to make it the newest version."""
    saved = service.rollback(ctx, who, tree_id, version=body.version, rev=body.rev)
    audit.record(
        ctx,
        who,
        "tree.rolled_back",
        "tree",
        saved["_id"],
        ip=client_address(request),
        details={"version": body.version},
    )
    return {"ok": True, "id": saved["_id"], "rev": saved["_rev"], "version": body.version}


@router.get("/trees/{tree_id}/suggestions")
def list_suggestions(
    tree_id: str,
    who: AuthorDep,
    ctx: CtxDep,
    dismissed: Annotated[
        bool,
        Query(
            description=(
                "List the dismissed occurrences instead (each group with `dismissed_at` "
                "and `dismissed_by`), e.g. to offer them back with `suggestions/restore`."
            )
        ),
    ] = False,
) -> dict:
    """Custom steps engineers added in sessions of this tree, grouped by the node where they
    were added: `{items: [{node_id, count, suggestions: [{text, text_key, count, answers,
    session_ids, examples}]}]}`. A group is one node and one normalised wording (`text_key`);
    occurrences an author dismissed are left out unless `dismissed=true`."""
    tree_id = service.get_tree(ctx, who, tree_id)["_id"]
    marks = suggestions.get_dismissals(service.trees_db(ctx, who.tenant_id), tree_id)
    items = suggestions.for_tree(tenant_index(ctx, who.tenant_id), tree_id, marks, dismissed=dismissed)
    return {"items": items, "next_cursor": None}


class SuggestionGroupRef(BaseModel):
    """One suggestion group, as `GET /trees/{id}/suggestions` lists it."""

    model_config = ConfigDict(extra="forbid")
    node_id: str = Field(pattern=NODE_ID_PATTERN, description="The node the custom steps were added at.")
    text_key: str = Field(
        min_length=1,
        max_length=2000,
        description="The group's `text_key` (the wording itself also works: it is normalised).",
    )


def _group_ref(body: SuggestionGroupRef) -> SuggestionGroupRef:
    if not suggestions.text_key(body.text_key):
        raise BadRequest("text_key is empty once normalised; send the text_key the suggestions listing gave.")
    return body


@router.post("/trees/{tree_id}/suggestions/dismiss")
def dismiss_suggestion(tree_id: str, body: SuggestionGroupRef, who: AuthorDep, ctx: CtxDep) -> dict:
    """Dismiss a suggestion group (`{node_id, text_key}` from the listing) that is wrong or
    already handled: the occurrences it has now leave the listing, kept through restarts and
    index rebuilds. A custom step with the same wording added at that node later is a fresh
    request and shows the group again, counting only the new occurrences. Answers `{ok,
    node_id, text_key, dismissed}` (how many occurrences were hidden; 0 if all already were).
    Undo with `POST /trees/{id}/suggestions/restore`."""
    body = _group_ref(body)
    tree_id = service.get_tree(ctx, who, tree_id)["_id"]
    return suggestions.dismiss(
        service.trees_db(ctx, who.tenant_id),
        tenant_index(ctx, who.tenant_id),
        who,
        tree_id,
        body.node_id,
        body.text_key,
    )


@router.post("/trees/{tree_id}/suggestions/restore")
def restore_suggestion(tree_id: str, body: SuggestionGroupRef, who: AuthorDep, ctx: CtxDep) -> dict:
    """Undo dismissals of a suggestion group (`{node_id, text_key}`): every occurrence shows
    in the listing again. Answers `{ok, node_id, text_key, restored}` (0 if none was dismissed)."""
    body = _group_ref(body)
    tree_id = service.get_tree(ctx, who, tree_id)["_id"]
    return suggestions.restore(
        service.trees_db(ctx, who.tenant_id),
        tenant_index(ctx, who.tenant_id),
        tree_id,
        body.node_id,
        body.text_key,
    )
