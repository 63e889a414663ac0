"""Routes: read-only share links of a session (`/api/v1/sessions/{id}/share-links`) and the
public page a link opens (`/share/{token}`, no account needed)."""

from __future__ import annotations

import html
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from sync.errors import BranchlineError

from ..audit import service as audit
from ..auth.endpoints import public_base
from ..core.deps import CtxDep, PageDep, PrincipalDep, client_address
from ..core.errors import error_response as error_json
from ..core.openapi import error_response, errors
from ..ratelimit.deps import charge
from . import service

router = APIRouter(tags=["share links"])
log = logging.getLogger("branchline")

# The page is a document of its own, like the HTML export: no script at all, styles inline,
# images only as data URIs; never framed, cached, indexed or leaking its address onwards.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


class ShareLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    expires_in_days: int = Field(
        default=service.DEFAULT_DAYS,
        ge=service.MIN_DAYS,
        le=service.MAX_DAYS,
        description="How long the link works, in days (1 to 90).",
    )
    attachments: bool = Field(
        default=False, description="Show the session's attachments, images embedded in the page."
    )


_MANAGE_ERRORS = errors(
    {403: "Only the session's owner, or an owner or admin of the team, manages its share links."}
)


@router.post("/api/v1/sessions/{session_id}/share-links", status_code=201, responses=_MANAGE_ERRORS)
def create_share_link(
    session_id: str, body: ShareLinkCreate, who: PrincipalDep, ctx: CtxDep, request: Request
) -> dict:
    """Make a read-only link to this session for someone without an account (a client's IT
    contact). Answers `{id, url, expires_at, ...}`; `url` holds the link's secret and is in
    this answer only: copy it now. Anyone with the URL sees the session as it is when they
    open it, until the link expires or is revoked."""
    link = service.create_link(
        ctx,
        who,
        session_id,
        days=body.expires_in_days,
        attachments=body.attachments,
        base_url=public_base(ctx, request),
    )
    audit.record(
        ctx,
        who,
        "share_link.created",
        "session",
        link["session_id"],
        ip=client_address(request),
        details={"link_id": link["id"], "expires_at": link["expires_at"], "attachments": link["attachments"]},
    )
    return link


@router.get("/api/v1/sessions/{session_id}/share-links", responses=_MANAGE_ERRORS)
def list_share_links(session_id: str, who: PrincipalDep, ctx: CtxDep, page: PageDep) -> dict:
    """The session's share links, newest first, each with its `state` (`active`, `expired`,
    `revoked`); never their secret, which was shown once."""
    links = service.list_links(ctx, who, session_id)
    after = page.after()
    if after:
        links = [x for x in links if [x["created_at"], x["id"]] < after]
    return page.answer(links[: page.limit + 1], lambda x: [x["created_at"], x["id"]])


@router.delete(
    "/api/v1/sessions/{session_id}/share-links/{link_id}",
    status_code=204,
    response_class=Response,
    responses=_MANAGE_ERRORS,
)
def revoke_share_link(
    session_id: str, link_id: str, who: PrincipalDep, ctx: CtxDep, request: Request
) -> Response:
    """Revoke a link: it stops working at once, and says so to whoever opens it. Revoking it
    again changes nothing."""
    link, revoked = service.revoke_link(ctx, who, session_id, link_id)
    if revoked:
        audit.record(
            ctx,
            who,
            "share_link.revoked",
            "session",
            link["session_id"],
            ip=client_address(request),
            details={"link_id": link_id},
        )
    return Response(status_code=204)


def _problem(request: Request, exc: BranchlineError) -> Response:
    headers = {**PAGE_HEADERS, **exc.headers}
    if _wants_json(request):
        return error_json(exc.status, exc.error, exc.reason, headers)
    return HTMLResponse(_problem_page(exc.status, exc.error, exc.reason), exc.status, headers=headers)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


_TITLES = {404: "Link not valid", 410: "Link no longer works", 429: "Too many requests", 503: "Not available"}


def _problem_page(status: int, error: str, reason: str) -> str:
    title = _TITLES.get(status, "Not available")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex, nofollow"><title>{html.escape(title)}</title>'
        "<style>body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;line-height:1.5;"
        "color:#1f2328;max-width:36rem;margin:3rem auto;padding:0 1rem}h1{font-size:1.4rem}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>"
        f'<p data-error="{html.escape(error)}">{html.escape(reason)}</p></body></html>'
    )


def _page_error(description: str) -> dict[str, Any]:
    """An error of the public page: an HTML page for browsers, `{error, reason}` for JSON."""
    documented = error_response(description)
    documented["content"]["text/html"] = {"schema": {"type": "string"}}
    return documented


_PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The read-only report."},
    404: _page_error("No link has this token."),
    410: _page_error(
        "The link was revoked (`link_revoked`), expired (`link_expired`), or its maker can no "
        "longer open the session (`link_unavailable`)."
    ),
    429: _page_error("Too many views of this link: wait `Retry-After` seconds."),
    503: _page_error("The report cannot be shown just now (`unavailable`); try again in a few minutes."),
}


@router.get("/share/{token}", response_class=HTMLResponse, responses=_PAGE_RESPONSES)
def open_share_link(
    token: Annotated[str, Path(max_length=200, description="The token from the shared address.")],
    ctx: CtxDep,
    request: Request,
) -> Response:
    """The public, read-only page of a shared session: no account needed, the session as it
    is now (later steps and notes included). Rendered on the server from the built-in HTML
    export, every value escaped; sent with `Cache-Control: no-store`, `Referrer-Policy:
    no-referrer`, `X-Robots-Tag: noindex` and a policy that allows no script. Answers HTML,
    or `{error, reason}` JSON when `Accept` asks for JSON only. The first view of each link
    is recorded in the team's audit log."""
    now = datetime.now(UTC)
    try:
        link, who = service.resolve(ctx, token, now)
        charge(ctx, "share_views", link["link_id"], "opening one shared link")
    except BranchlineError as exc:
        return _problem(request, exc)
    try:
        page = service.render_page(ctx, link, who, now)
    except BranchlineError as exc:
        # A reason written for the team (a pinned tree version still replicating from a
        # device, say) is not for an outsider: log it, and say only that it will pass.
        log.warning("share link %s of %s: %s", link["link_id"], link["tenant_id"], exc.reason)
        return _problem(request, service.Unavailable())
    if service.mark_viewed(ctx, link, now):
        audit.append(
            ctx.store,
            link["tenant_id"],
            {"type": "share_link", "id": link["link_id"]},
            "share_link.viewed",
            {"type": "session", "id": link["session_id"]},
            secret=ctx.secret,
            ip=client_address(request),
            details={"link_id": link["link_id"], "created_by": link["created_by"]},
        )
    return HTMLResponse(page, headers=PAGE_HEADERS)
