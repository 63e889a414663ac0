"""Routes: the script library, drafts, publishing, versions, rendering, import and export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ..audit import service as audit
from ..core.deps import AuthorDep, CtxDep, PageDep, PrincipalDep, client_address
from ..core.openapi import errors
from ..core.responses import JSONAnswer
from . import service

router = APIRouter(prefix="/api/v1", tags=["scripts"])

ScriptBody = Annotated[
    dict[str, Any],
    Body(
        description=(
            "A script: `name`, `description`, `shell` (`powershell`), `body` (without a param "
            "block: the server writes it), `parameters` [{`name`, `type` (string, int, bool, "
            "hostname, ip, enum, secret), `label`, `description`, `required`, `default`, "
            "`choices`, `pattern`, `min`, `max`}], `risk` (low, medium, high), `links` [{`title`, "
            "`url`}], `tags`."
        )
    ),
]


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    change_note: str = Field(default="", max_length=2000)
    rev: str | None = Field(
        default=None, alias="_rev", description="Publish only if the draft is still at this revision."
    )


class RenderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Parameter name to value.")
    version: int | None = Field(
        default=None, ge=1, description="A published version; the latest when left out."
    )
    draft: bool = Field(default=False, description="Render the draft instead (authors, admins, owners).")


def _details(doc: dict[str, Any]) -> dict[str, Any]:
    return {"name": doc.get("name"), "risk": doc.get("risk")}


@router.get("/scripts")
def list_scripts(
    who: PrincipalDep,
    ctx: CtxDep,
    page: PageDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in the name, description or tags")
    ] = None,
    risk: Annotated[Literal["low", "medium", "high"] | None, Query()] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    include_archived: bool = False,
) -> dict:
    """The script library by name. Authors, admins and owners see drafts (`latest_version`
    null until published); engineers and viewers see the latest published version of each."""
    offset = int(page.after() or 0)
    rows = service.list_scripts(ctx, who, q=q, risk=risk, tag=tag, include_archived=include_archived)
    return page.answer(rows[offset : offset + page.limit + 1], lambda _row: offset + page.limit)


@router.post("/scripts", status_code=201)
def create_script(body: ScriptBody, who: AuthorDep, ctx: CtxDep, request: Request) -> dict:
    """Create a draft (without `_id`, one is derived from the name). It reaches engineers once published."""
    saved = service.create_script(ctx, who, body)
    audit.record(
        ctx,
        who,
        "script.created",
        "script",
        saved["_id"],
        ip=client_address(request),
        details=_details(saved),
    )
    return {"ok": True, "id": saved["_id"], "rev": saved["_rev"]}


@router.post("/scripts/import", status_code=201)
def import_script(
    body: ScriptBody, who: AuthorDep, ctx: CtxDep, request: Request, replace: bool = False
) -> dict:
    """Import a file from `GET /scripts/{id}/export` as a draft (`replace=true` overwrites a
    draft of the same id; otherwise that is a 409)."""
    saved = service.import_script(ctx, who, body, replace=replace)
    audit.record(
        ctx,
        who,
        "script.imported",
        "script",
        saved["_id"],
        ip=client_address(request),
        details={**_details(saved), "replace": replace},
    )
    return {"ok": True, "id": saved["_id"], "rev": saved["_rev"]}


@router.get(
    "/scripts/{script_id}", responses=errors({404: "No such script (or, for engineers, not published)."})
)
def get_script(script_id: str, who: PrincipalDep, ctx: CtxDep) -> dict:
    """Authors, admins and owners get the draft with its `_rev`; engineers and viewers the
    latest published version (with `version`)."""
    return service.get_script(ctx, who, script_id)


@router.put("/scripts/{script_id}", responses=errors({409: "The `_rev` is stale: load the draft again."}))
def update_script(script_id: str, body: ScriptBody, who: AuthorDep, ctx: CtxDep, request: Request) -> dict:
    """Save the draft; the body carries the `_rev` it was loaded at."""
    saved = service.update_script(ctx, who, script_id, body)
    audit.record(
        ctx,
        who,
        "script.updated",
        "script",
        saved["_id"],
        ip=client_address(request),
        details=_details(saved),
    )
    return {"ok": True, "id": saved["_id"], "rev": saved["_rev"]}


@router.delete("/scripts/{script_id}")
def archive_script(script_id: str, who: AuthorDep, ctx: CtxDep, request: Request) -> dict:
    """Archive a script: it leaves the library; its published versions stay readable."""
    saved = service.archive_script(ctx, who, script_id)
    audit.record(ctx, who, "script.archived", "script", saved["_id"], ip=client_address(request))
    return {"ok": True, "id": saved["_id"], "rev": saved["_rev"], "archived": True}


@router.post("/scripts/{script_id}/publish", status_code=201)
def publish(
    script_id: str, who: AuthorDep, ctx: CtxDep, request: Request, body: PublishRequest | None = None
) -> dict:
    """Publish the draft as the next immutable version; engineers' devices receive it on their next sync."""
    body = body or PublishRequest()
    doc = service.publish(ctx, who, script_id, change_note=body.change_note, rev=body.rev)
    audit.record(
        ctx,
        who,
        "script.published",
        "script",
        doc["script_id"],
        ip=client_address(request),
        details={"version": doc["version"], "risk": doc["script"]["risk"]},
    )
    return {"ok": True, "id": doc["_id"], "version": doc["version"], "published_at": doc["published_at"]}


@router.get("/scripts/{script_id}/versions")
def list_versions(script_id: str, who: PrincipalDep, ctx: CtxDep) -> dict:
    """Published versions, newest first (the history)."""
    return {"items": service.list_versions(ctx, who, script_id), "next_cursor": None}


@router.get("/scripts/{script_id}/versions/{version}")
def get_version(script_id: str, version: int, who: PrincipalDep, ctx: CtxDep) -> dict:
    """One published version, as frozen."""
    return service.get_version(ctx, who, script_id, version)


@router.post(
    "/scripts/{script_id}/render",
    responses=errors({400: "A value is missing, unknown, or fails its parameter's type."}),
)
def render(script_id: str, body: RenderRequest, who: PrincipalDep, ctx: CtxDep) -> dict:
    """The script's PowerShell text with the values bound: `{script, script_id, version, risk}`.
    Values are checked by type and written as single-quoted literals in a generated param
    block, so no value can change the script's structure (see `api/scripts/render.py`).
    Nothing is stored: the text may hold a secret's value."""
    return service.render_script(ctx, who, script_id, body.parameters, version=body.version, draft=body.draft)


@router.get("/scripts/{script_id}/export")
def export_script(script_id: str, who: AuthorDep, ctx: CtxDep) -> Response:
    """The draft as a JSON file for `POST /scripts/import`."""
    doc = service.export_script(ctx, who, script_id)
    name = service.slug_of(doc["_id"])
    return JSONAnswer(doc, headers={"Content-Disposition": f'attachment; filename="{name}.script.json"'})
