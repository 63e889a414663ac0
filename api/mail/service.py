"""Queueing e-mail: each message is rendered in the request that causes it and written to the
tenant's outbox (`repository.py`) before the answer goes out; the worker (`worker.py`) sends it.

What is queued:
- the invitation, to the invitee, with the accept link (`invitation`);
- a publish review requested, to the workspace's reviewers who can reach the tree (owners,
  admins, named reviewers), never to the requester (`review_requested`);
- a review approved or sent back, to the requester (`review_approved`,
  `review_changes_requested`).

One message per recipient: one refused address fails alone, and no reviewer learns the
others' addresses. The message is stored sealed (`api/core/sealing.py`), because an
invitation's link signs its holder in, and its body is dropped once it is sent or failed.

Without `BRANCHLINE_SMTP_URL` nothing is queued, and each answer says so (`notice`): the
invitation link is still answered, to be passed on by hand.
"""

from __future__ import annotations

import base64
import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ParamSpec

from sync.access import Principal

from ..brand import service as brand_service
from ..core.context import AppContext
from ..core.docs import save
from ..core.sealing import seal, unseal
from ..core.timeutil import iso, now_ms
from ..publishreview import rules as review_rules
from ..sessions.ids import ulid
from ..teams.scopes import scopes_of
from ..users import repository as users
from . import render, repository as repo

log = logging.getLogger("branchline.mail")
P = ParamSpec("P")

SEAL_PURPOSE = "branchline mail message v1"
NOT_CONFIGURED = (
    "E-mail is not set up on this server (BRANCHLINE_SMTP_URL and BRANCHLINE_MAIL_FROM), so "
    "nothing was e-mailed; pass the link on yourself."
)
NOT_CONFIGURED_RESET = (
    "This server sends no e-mail, so no reset link can be sent: ask your team's admin to reset your password."
)
QUEUE_FAILED = (
    "The e-mail could not be queued (a server error, logged for the operator), so nothing was "
    "e-mailed; pass the link on yourself."
)
KINDS = ("invitation", "review_requested", "review_approved", "review_changes_requested", "password_reset")


def configured(ctx: AppContext) -> bool:
    return ctx.settings.smtp() is not None


def notice(ctx: AppContext, queued: list[dict[str, Any]], *, nobody: str | None = None) -> dict[str, Any]:
    """What an answer tells of its e-mail: `{configured, queued: [{id, to, status}], reason}`."""
    if not configured(ctx):
        return {"configured": False, "queued": [], "reason": NOT_CONFIGURED}
    reason = None if queued else nobody
    return {"configured": True, "queued": [summary(m) for m in queued], "reason": reason}


def brand_of(ctx: AppContext, tenant_id: str) -> render.MailBrand:
    """The workspace's brand as a message shows it. Links go to its verified custom domain, else
    to BRANCHLINE_PUBLIC_URL (or the address the server listens on): never to the Host of the
    request that caused the message, which its sender controls (a reset anyone may ask for, a
    review an author requests for the admins to open)."""
    brand = brand_service.get_brand(ctx.system, tenant_id)
    domain = brand.get("custom_domain")
    verified = domain and brand.get("custom_domain_verified")
    link_base = f"https://{domain}" if verified else ctx.settings.resolved_public_url()
    return render.MailBrand(
        name=brand["name"],
        color=brand.get("primary_color") or render.DEFAULT_COLOR,
        on_color=brand.get("on_primary") or render.DEFAULT_ON_COLOR,
        logo=brand_service.logo_bytes(ctx.system, tenant_id),
        link_base=link_base.rstrip("/"),
    )


def _seal_binding(tenant_id: str, key: str) -> str:
    return f"{tenant_id}:{key}"


def queue(
    ctx: AppContext,
    tenant_id: str,
    *,
    kind: str,
    brand: render.MailBrand,
    draft: render.Draft,
    recipients: list[dict[str, Any]],
    about: dict[str, str],
) -> list[dict[str, Any]]:
    """Write one message per recipient (a user document) into the outbox; none when e-mail is off."""
    sender = (ctx.settings.mail_from or "").strip()
    if not configured(ctx) or not recipients:
        return []
    db = repo.ensure_db(ctx.store, tenant_id)
    out = []
    for to in recipients:
        message_id, raw = render.build(
            draft,
            brand,
            sender=sender,
            to_addr=to["email"],
            to_name=to.get("display_name") or "",
            when=datetime.now(UTC),
        )
        created = now_ms()
        key = ulid(created)
        binding = _seal_binding(tenant_id, key)
        doc = {
            "_id": repo.msg_doc_id(key),
            "type": "mail_message",
            "schema_version": repo.SCHEMA_VERSION,
            "key": key,
            "kind": kind,
            "to": to["email"],
            "to_user_id": to.get("user_id"),
            "subject": draft.subject,
            "message_id": message_id,
            "about": about,
            "message_sealed": seal(ctx.secret, SEAL_PURPOSE, binding, base64.b64encode(raw).decode()),
            "created_at": iso(created),
            "created_ms": created,
            "status": "pending",
            "attempt_count": 0,
            "next_attempt_ms": created,
            "claim": None,
            "attempts": [],
        }
        out.append(save(db, doc))
    if ctx.mail is not None:
        ctx.mail.nudge(tenant_id)
    return out


def raw_message(ctx: AppContext, tenant_id: str, doc: dict[str, Any]) -> bytes:
    sealed = doc["message_sealed"]
    return base64.b64decode(unseal(ctx.secret, SEAL_PURPOSE, _seal_binding(tenant_id, doc["key"]), sealed))


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["key"], "to": doc["to"], "status": doc["status"]}


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A message as `GET /api/v1/mail` shows it: never its body (it may hold a sign-in link)."""
    return {
        "id": doc["key"],
        "kind": doc["kind"],
        "to": doc["to"],
        "subject": doc["subject"],
        "about": doc.get("about"),
        "status": doc["status"],
        "created_at": doc["created_at"],
        "attempt_count": doc.get("attempt_count", 0),
        "next_attempt_at": iso(doc["next_attempt_ms"]) if doc.get("next_attempt_ms") else None,
        "last_error": doc.get("last_error"),
        "delivered_at": doc.get("delivered_at"),
        "failed_at": doc.get("failed_at"),
        "attempts": [
            {
                k: a.get(k)
                for k in ("at", "ok", "status_code", "response_excerpt", "error", "duration_ms", "by")
            }
            for a in doc.get("attempts", [])
        ],
    }


# --- the messages ----------------------------------------------------------------------------


def _after_the_fact(make: Callable[P, dict[str, Any]]) -> Callable[P, dict[str, Any]]:
    """Queueing e-mail follows a change already saved (an invitation, a review): if it fails,
    the change stands and the answer says nothing was e-mailed, instead of a 500 for work
    that was done."""

    @functools.wraps(make)
    def safe(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
        try:
            return make(*args, **kwargs)
        except Exception:
            log.exception("mail: queueing %s failed; the answer says nothing was e-mailed", make.__name__)
            return {"configured": True, "queued": [], "reason": QUEUE_FAILED}

    return safe


def _name(user: dict[str, Any] | None, fallback: str = "Someone") -> str:
    if not user:
        return fallback
    return str(user.get("display_name") or user.get("email") or fallback)


@_after_the_fact
def invitation(ctx: AppContext, who: Principal, invited: dict[str, Any], token: str) -> dict[str, Any]:
    """E-mail the invitee their accept link; the answer's `mail` notice."""
    if not configured(ctx):
        return notice(ctx, [])
    user = users.require_user(ctx.system, who.tenant_id, invited["id"])
    brand = brand_of(ctx, who.tenant_id)
    inviter = _name(users.get_user(ctx.system, who.tenant_id, who.user_id), "An admin")
    url = f"{brand.link_base}/accept-invite#token={token}"
    expires = datetime.fromtimestamp(invited["invite_expires_at"], UTC).strftime("%d %B %Y, %H:%M UTC")
    role = str(user["role"])
    draft = render.render(
        "invitation",
        brand,
        f"[{brand.name}] {inviter} invited you to join",
        ("Accept the invitation", url),
        inviter_name=inviter,
        invitee_name=user.get("display_name") or "",
        invitee_email=user["email"],
        role=role,
        role_article="an" if role[0] in "aeiou" else "a",
        expires=expires,
    )
    about = {"type": "user", "id": user["user_id"]}
    return notice(
        ctx,
        queue(
            ctx, who.tenant_id, kind="invitation", brand=brand, draft=draft, recipients=[user], about=about
        ),
    )


def password_reset(ctx: AppContext, user: dict[str, Any], token: str) -> list[dict[str, Any]]:
    """E-mail the account's owner a link to choose a new password."""
    brand = brand_of(ctx, user["tenant_id"])
    draft = render.render(
        "password_reset",
        brand,
        f"[{brand.name}] Reset your password",
        ("Choose a new password", f"{brand.link_base}/reset-password#token={token}"),
        email=user["email"],
        name=user.get("display_name") or user["email"],
    )
    about = {"type": "user", "id": user["user_id"]}
    return queue(
        ctx,
        user["tenant_id"],
        kind="password_reset",
        brand=brand,
        draft=draft,
        recipients=[user],
        about=about,
    )


def _about(review: dict[str, Any]) -> dict[str, str]:
    return {"type": "tree_review", "id": f"{review['tree_id']}/{review['review_id']}"}


def _review_url(brand: render.MailBrand, tree_id: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415

    return f"{brand.link_base}/editor/{quote(tree_id, safe='')}/review"


def reviewers_of(ctx: AppContext, tenant_id: str, tree_id: str, requester: str) -> list[dict[str, Any]]:
    """Who is told of a review request: active owners, admins and named reviewers who can reach
    the tree (team scoping), minus the requester."""
    scopes = scopes_of(ctx)
    out = []
    for user in users.list_users(ctx.system, tenant_id):
        if not user.get("active") or user["user_id"] == requester or users.awaiting_invite(user):
            continue
        if not review_rules.may_review(str(user["role"]), user.get("reviewer") is True):
            continue
        person = Principal(tenant_id=tenant_id, user_id=user["user_id"], role=user["role"])
        if scopes.permissions(person, tree_id):
            out.append(user)
    return out


@_after_the_fact
def review_requested(
    ctx: AppContext, who: Principal, review: dict[str, Any], tree_title: str
) -> dict[str, Any]:
    if not configured(ctx):
        return notice(ctx, [])
    brand = brand_of(ctx, who.tenant_id)
    requester = _name(users.get_user(ctx.system, who.tenant_id, review["requested_by"]))
    draft = render.render(
        "review_requested",
        brand,
        f"[{brand.name}] Review requested: {tree_title}",
        ("Open the review", _review_url(brand, review["tree_id"])),
        requester_name=requester,
        tree_title=tree_title,
        note=review.get("note") or "",
    )
    reviewers = reviewers_of(ctx, who.tenant_id, review["tree_id"], review["requested_by"])
    queued = queue(
        ctx,
        who.tenant_id,
        kind="review_requested",
        brand=brand,
        draft=draft,
        recipients=reviewers,
        about=_about(review),
    )
    return notice(ctx, queued, nobody="No other reviewer can reach this tree, so nobody was e-mailed.")


@_after_the_fact
def review_decided(
    ctx: AppContext, who: Principal, review: dict[str, Any], tree_title: str
) -> dict[str, Any]:
    if not configured(ctx):
        return notice(ctx, [])
    requester = users.get_user(ctx.system, who.tenant_id, review["requested_by"])
    if requester is None or not requester.get("active"):
        return notice(ctx, [], nobody="The requester has no active account to e-mail.")
    if requester["user_id"] == who.user_id:
        return notice(ctx, [], nobody="You requested this review yourself; nobody else is told.")
    approved = review["status"] == review_rules.APPROVED
    brand = brand_of(ctx, who.tenant_id)
    reviewer = _name(users.get_user(ctx.system, who.tenant_id, who.user_id), "A reviewer")
    what = "Approved" if approved else "Changes requested"
    draft = render.render(
        "review_decided",
        brand,
        f"[{brand.name}] {what}: {tree_title}",
        ("Open the review", _review_url(brand, review["tree_id"])),
        approved=approved,
        reviewer_name=reviewer,
        tree_title=tree_title,
        comment=review.get("decision_comment") or "",
    )
    kind = "review_approved" if approved else "review_changes_requested"
    queued = queue(
        ctx, who.tenant_id, kind=kind, brand=brand, draft=draft, recipients=[requester], about=_about(review)
    )
    return notice(ctx, queued)
