"""Share links: who may make them, what a link is worth when presented, and the page it shows.

A link belongs to one tenant and one session. Its token is 256 random bits, shown once (in
the address the creator copies) and stored only as a SHA-256 hash, as refresh tokens and
API keys are. Presented, a token is worth something only while its link is neither revoked
nor expired, and only while the person who made it could still open the session themselves:
the page is folded and rendered *as that person*, so an engineer who loses access to a
session (unshared, deactivated) takes their links' reach with them, and a link can never
show more than its maker could.

Images: the page embeds the session's image attachments as `data:` URIs when the link was
made with `attachments: true`, and lists no attachments otherwise. Inline images need no
second public route and no URL that outlives the page (a signed image URL copied from the
page would keep working after a revoke until it expired); the cost is a heavier page, which
the export's image sizes already bound.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sync.access import Principal
from sync.errors import BranchlineError, Forbidden, NotFound

from ..auth.tokens import hash_secret
from ..core.context import AppContext
from ..core.docs import save
from ..core.ids import new_id
from ..exports import formats, service as exports
from ..exports.templates import builtin_env
from ..sessions import access, repository as sessions_repo
from ..tenants.repository import get_tenant
from ..users import repository as users
from . import repository as repo

MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 90, 7
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{40,64}$")
State = Literal["active", "expired", "revoked"]


class LinkGone(BranchlineError):
    """A link that existed but no longer opens: 410, with `error` saying why."""

    status = 410


class Unavailable(BranchlineError):
    """The link is fine but its report cannot be rendered now (e.g. the session's tree version
    has not reached the server yet)."""

    status, error = 503, "unavailable"

    def __init__(self) -> None:
        super().__init__(
            "This report cannot be shown just now. Try again in a few minutes; if it keeps "
            "failing, tell the person who shared it.",
            headers={"Retry-After": "120"},
        )


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def link_state(link: dict[str, Any], now: datetime) -> State:
    """Revoked wins over expired: a person who revoked a link should read that it was revoked."""
    if link.get("revoked_at"):
        return "revoked"
    if now >= _parse(link["expires_at"]):
        return "expired"
    return "active"


def public_link(link: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A link as the API lists it: never its token, nor the token's hash."""
    return {
        "id": link["link_id"],
        "session_id": link["session_id"],
        "state": link_state(link, now),
        "attachments": link["attachments"],
        "created_at": link["created_at"],
        "created_by": link["created_by"],
        "expires_at": link["expires_at"],
        "revoked_at": link.get("revoked_at"),
        "revoked_by": link.get("revoked_by"),
        "first_viewed_at": link.get("first_viewed_at"),
    }


def _require_manager(ctx: AppContext, who: Principal, session_id: str) -> str:
    """The session id, when `who` may make and revoke its links: owners and admins of the
    tenant, and the session's own owner. Teammates it is shared with may not: a link reaches
    outside the team, which is the owner's call."""
    sid = sessions_repo.normalize_sid(session_id)
    header = sessions_repo.get_header(sessions_repo.sessions_db(ctx, who.tenant_id), sid)
    if who.kind != "user":
        raise Forbidden(
            "Share links are made by a signed-in person, not by an API key, so someone answers for each."
        )
    if who.is_admin or header.get("owner_id") == who.user_id:
        return sid
    access.require_open(who, header)  # someone else's unshared session: the usual answer
    raise Forbidden(
        "Only the session's owner, or an owner or admin of the team, can make or revoke read-only links; "
        "ask them to share it."
    )


def create_link(
    ctx: AppContext, who: Principal, session_id: str, *, days: int, attachments: bool, base_url: str
) -> dict[str, Any]:
    sid = _require_manager(ctx, who, session_id)
    now = datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    link = repo.create(
        ctx.system,
        {
            "_id": repo.link_doc_id(who.tenant_id, sid, (link_id := new_id())),
            "type": "share_link",
            "schema_version": 1,
            "tenant_id": who.tenant_id,
            "session_id": sid,
            "link_id": link_id,
            "token_hash": hash_secret(token),
            "attachments": attachments,
            "created_at": _iso(now),
            "created_by": who.user_id,
            "expires_at": _iso(now + timedelta(days=days)),
            "revoked_at": None,
            "revoked_by": None,
            "first_viewed_at": None,
        },
    )
    out = public_link(link, now)
    out["url"] = f"{base_url}/share/{token}"  # the only time the token is shown
    return out


def list_links(ctx: AppContext, who: Principal, session_id: str) -> list[dict[str, Any]]:
    sid = _require_manager(ctx, who, session_id)
    now = datetime.now(UTC)
    links = [public_link(d, now) for d in repo.links_of(ctx.system, who.tenant_id, sid)]
    return sorted(links, key=lambda x: (x["created_at"], x["id"]), reverse=True)


def revoke_link(
    ctx: AppContext, who: Principal, session_id: str, link_id: str
) -> tuple[dict[str, Any], bool]:
    """Revoke at once; revoking a revoked link changes nothing. Answers the link and whether
    this call revoked it."""
    sid = _require_manager(ctx, who, session_id)
    link = repo.get_link(ctx.system, who.tenant_id, sid, link_id)
    if link is None:
        raise NotFound(f"This session has no share link {link_id!r}; list them with GET .../share-links.")
    if link.get("revoked_at"):
        return public_link(link, datetime.now(UTC)), False
    link["revoked_at"] = _iso(datetime.now(UTC))
    link["revoked_by"] = who.user_id
    save(ctx.system, link)
    return public_link(link, datetime.now(UTC)), True


# --- the public page ---------------------------------------------------------------------


NOT_VALID = (
    "This link is not valid. Check that you opened the whole address you were sent; "
    "if it still fails, ask the person who sent it for a new link."
)


def _human(ts: str | datetime) -> str:
    """e.g. "2 November 2026, 09:00 UTC" (the page's reader may be anywhere: UTC, said so)."""
    moment = _parse(ts) if isinstance(ts, str) else ts.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


def resolve(ctx: AppContext, token: str, now: datetime) -> tuple[dict[str, Any], Principal]:
    """The active link a token opens and the person it acts as; NotFound for a token that
    matches nothing (the same answer for every such token, so nothing leaks), LinkGone for a
    revoked or expired link, or one whose maker can no longer open the session."""
    link = repo.link_for_token_hash(ctx.system, hash_secret(token)) if TOKEN_RE.match(token) else None
    if link is None:
        raise NotFound(NOT_VALID)
    state = link_state(link, now)
    if state == "revoked":
        raise LinkGone(
            f"This link was revoked on {_human(link['revoked_at'])}: the person who shared it turned it off. "
            "Ask them for a new link if you still need the report.",
            error="link_revoked",
        )
    if state == "expired":
        raise LinkGone(
            f"This link expired on {_human(link['expires_at'])}. "
            "Ask the person who shared it for a new link.",
            error="link_expired",
        )
    maker = users.get_user(ctx.system, link["tenant_id"], link["created_by"])
    gone = LinkGone(
        "This link no longer works: the person who shared it no longer has access to the session. "
        "Ask your contact at the service desk for a new link.",
        error="link_unavailable",
    )
    if maker is None or not maker.get("active", True):
        raise gone
    who = Principal(tenant_id=link["tenant_id"], user_id=link["created_by"], role=maker["role"])
    try:
        header = sessions_repo.get_header(sessions_repo.sessions_db(ctx, who.tenant_id), link["session_id"])
    except NotFound:
        raise gone from None
    if not access.can_open(who, header):
        raise gone
    return link, who


def render_page(ctx: AppContext, link: dict[str, Any], who: Principal, now: datetime) -> str:
    """The session as it is now, in the built-in HTML export with a banner; escaped throughout."""
    overrides: dict[str, bool | None] = {"attachments": bool(link["attachments"])}
    model, _ = exports.session_model(ctx, who, link["session_id"], overrides)
    fetch = (
        exports.attachment_fetcher(ctx, who.tenant_id, link["session_id"]) if link["attachments"] else None
    )
    maker = users.get_user(ctx.system, who.tenant_id, who.user_id) or {}
    shared = {
        "by": maker.get("display_name") or "a member of the team",
        "team": get_tenant(ctx.system, who.tenant_id).get("name") or "their team",
        "expires": _human(link["expires_at"]),
        "viewed_at": _human(now),
    }
    template = builtin_env("html").get_template("share.j2")
    return template.render(m=model, images=formats.embedded_images(model, fetch), shared=shared)


def mark_viewed(ctx: AppContext, link: dict[str, Any], now: datetime) -> bool:
    """Record the first view on the link; True when this view was the first. Two first views
    at once write the same document: the one that loses the race was not the first."""
    if link.get("first_viewed_at"):
        return False
    link["first_viewed_at"] = _iso(now)
    try:
        save(ctx.system, link)
    except BranchlineError:
        return False
    return True
