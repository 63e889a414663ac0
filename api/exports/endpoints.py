"""Routes: session exports (Markdown, text, HTML, PDF, JSON, ConnectWise), the HTML preview,
tenant export defaults and tenant template overrides."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from ..audit import service as audit
from ..core.deps import AdminDep, CtxDep, PrincipalDep, client_address
from ..core.disconnect import run_until_disconnected
from ..ratelimit.deps import ExportLimit
from . import service

router = APIRouter(prefix="/api/v1", tags=["exports"])

Format = Literal["markdown", "text", "html", "pdf", "json", "connectwise"]
OverridableFormat = Literal["html", "pdf", "connectwise"]

# Exported HTML is a document of its own: no scripts, nothing fetched but embedded images.
_HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}


def _overrides(
    notes: bool | None, timestamps: bool | None, undone: bool | None, attachments: bool | None
) -> dict[str, bool | None]:
    return {"notes": notes, "timestamps": timestamps, "undone": undone, "attachments": attachments}


OptionQuery = Annotated[bool | None, Query()]


@router.get(
    "/sessions/{session_id}/export",
    response_class=Response,
    dependencies=[ExportLimit],
    responses={
        200: {
            "content": {
                "text/markdown": {},
                "text/plain": {},
                "text/html": {},
                "application/pdf": {},
                "application/json": {},
            }
        }
    },
)
async def export_session(
    session_id: str,
    who: PrincipalDep,
    ctx: CtxDep,
    request: Request,
    format: Annotated[Format, Query(description="The export format.")] = "markdown",
    notes: Annotated[bool | None, Query(description="Include notes (tenant default when left out).")] = None,
    timestamps: Annotated[bool | None, Query(description="Show each step's time.")] = None,
    undone: Annotated[
        bool | None, Query(description='Show steps undone with back as "tried, then revisited".')
    ] = None,
    attachments: Annotated[
        bool | None, Query(description="List attachments (images embedded in HTML and PDF).")
    ] = None,
) -> Response:
    """A session's notes as a file to download (`<ticket>-<tree>-<date>.<ext>`).

    `markdown` and `text` are byte-identical to what the app exports offline; `html` is one
    self-contained page; `pdf` is printable with page numbers and the tenant's name;
    `json` is the export model plus the folded state; `connectwise` is a ConnectWise PSA
    internal note plus time-entry fields (hours from the session timer, the summary as
    resolution text). Options left out take the tenant's defaults (`/export-settings`).
    A tenant template gets a few seconds to render (then the built-in one is used, and
    `X-Branchline-Template` says so); 429 when too many of the team's renders are waiting.
    """
    result = await run_until_disconnected(
        request,
        service.export_session,
        ctx,
        who,
        session_id,
        format,
        _overrides(notes, timestamps, undone, attachments),
    )
    await run_in_threadpool(
        audit.record,
        ctx,
        who,
        "session.exported",
        "session",
        session_id,
        ip=client_address(request),
        details={"format": format},
    )
    headers = {"Content-Disposition": f'attachment; filename="{result.filename}"'}
    if format == "html":
        headers.update(_HTML_HEADERS)
    if result.used_fallback:
        headers["X-Branchline-Template"] = "built-in (the tenant template failed for this session)"
    return Response(result.body, media_type=result.media_type, headers=headers)


@router.get(
    "/sessions/{session_id}/export/preview",
    response_class=Response,
    dependencies=[ExportLimit],
    responses={200: {"content": {"text/html": {}}}},
)
async def preview_export(
    session_id: str,
    who: PrincipalDep,
    ctx: CtxDep,
    request: Request,
    notes: OptionQuery = None,
    timestamps: OptionQuery = None,
    undone: OptionQuery = None,
    attachments: OptionQuery = None,
) -> Response:
    """The HTML export shown inline, for a preview before downloading or pasting."""
    result = await run_until_disconnected(
        request,
        service.export_session,
        ctx,
        who,
        session_id,
        "html",
        _overrides(notes, timestamps, undone, attachments),
    )
    return Response(result.body, media_type=result.media_type, headers=dict(_HTML_HEADERS))


class ExportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # `0` is not `false`
    notes: bool | None = Field(default=None, description="Include notes.")
    timestamps: bool | None = Field(default=None, description="Show each step's time.")
    undone: bool | None = Field(default=None, description='Show undone steps as "tried, then revisited".')
    attachments: bool | None = Field(default=None, description="List (and embed) attachments.")


@router.get("/export-settings")
def get_export_settings(who: PrincipalDep, ctx: CtxDep) -> dict:
    """The tenant's default export options (every member reads them: the app applies them offline)."""
    return service.tenant_options(ctx, who.tenant_id)


@router.put("/export-settings")
def put_export_settings(body: ExportSettings, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Change the tenant's default export options (owners and admins); fields left out keep
    their value."""
    saved = service.save_tenant_options(ctx, who, body.model_dump())
    audit.record(
        ctx,
        who,
        "export_settings.changed",
        "export_settings",
        who.tenant_id,
        ip=client_address(request),
        details=saved,
    )
    return saved


class TemplateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1, max_length=200_000, description="A Jinja2 template.")


@router.get("/export-templates/{fmt}")
def get_export_template(fmt: OverridableFormat, who: AdminDep, ctx: CtxDep) -> dict:
    """The tenant's template for `html`, `pdf` or `connectwise`, or the built-in one
    (`custom: false`) to start from."""
    return service.get_template(ctx, who, fmt)


@router.put("/export-templates/{fmt}")
async def put_export_template(
    fmt: OverridableFormat,
    body: Annotated[TemplateBody, Body()],
    who: AdminDep,
    ctx: CtxDep,
    request: Request,
) -> dict:
    """Override the `html`, `pdf` or `connectwise` template (owners and admins). The template
    runs in Jinja2's sandbox with the export model as `m` (and `images` for HTML and PDF). It
    is compiled and rendered against sample sessions before it is saved: a template that
    fails is refused with 400, its line and the error (`details: {line, message}`), and so
    is one that runs longer than `BRANCHLINE_TEMPLATE_RENDER_SECONDS` (3), loops more than
    `BRANCHLINE_TEMPLATE_MAX_LOOP_ITERATIONS` times, writes more than
    `BRANCHLINE_TEMPLATE_MAX_OUTPUT_CHARS` or needs more memory than a template may use."""
    saved = await run_until_disconnected(request, service.put_template, ctx, who, fmt, body.source)
    await run_in_threadpool(
        audit.record, ctx, who, "export_template.changed", "export_template", fmt, ip=client_address(request)
    )
    return saved


@router.delete("/export-templates/{fmt}", status_code=204, response_class=Response)
def delete_export_template(fmt: OverridableFormat, who: AdminDep, ctx: CtxDep, request: Request) -> Response:
    """Go back to the built-in template for `fmt`."""
    service.delete_template(ctx, who, fmt)
    audit.record(ctx, who, "export_template.deleted", "export_template", fmt, ip=client_address(request))
    return Response(status_code=204)
