"""Routes: team members (admins), and the caller's own profile and password."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request

from sync.access import Principal

from ..audit import service as audit
from ..core.context import AppContext
from ..core.deps import AdminDep, CtxDep, PageDep, PrincipalDep, client_address
from ..core.openapi import errors
from ..mail import service as mail
from ..ratelimit.deps import InvitationMailLimit, PasswordResetLimit
from . import repository as repo, reset, service
from .schemas import (
    ForgotPassword,
    InviteAccept,
    InviteCheck,
    PasswordChange,
    ProfileUpdate,
    ResetCheck,
    ResetPassword,
    UserCreate,
    UserInvite,
    UserUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["users"])

_INVITED = {
    "description": "The invited account with its `invite_url` (always answered, to pass on by hand "
    "too), `emailed` (true when the invitation was queued to be e-mailed to the invitee) and `mail` "
    "(`{configured, queued: [{id, to, status}], reason}`: follow the message in GET /api/v1/mail).",
    "content": {
        "application/json": {
            "example": {
                "id": "01JE8Q2M3XK4V6",
                "email": "ines@example-msp.com",
                "display_name": "Ines",
                "role": "engineer",
                "active": False,
                "status": "invited",
                "invite_url": "https://help.example-msp.com/accept-invite#token=inv.t1.u2.secret",
                "invite_token": "inv.t1.u2.secret",
                "invite_expires_at": 1767139200,
                "emailed": True,
                "mail": {
                    "configured": True,
                    "queued": [{"id": "01JE8Q2M4A", "to": "ines@example-msp.com", "status": "pending"}],
                    "reason": None,
                },
            }
        }
    },
}


def _with_email(ctx: AppContext, who: Principal, invited: dict) -> dict:
    """The invitation answer plus what was e-mailed: the invitee gets the link when the server
    sends mail; the link is answered either way."""
    notice = mail.invitation(ctx, who, invited, invited["invite_token"])
    return {**invited, "emailed": bool(notice["queued"]), "mail": notice}


@router.get("/users")
def list_users(who: AdminDep, ctx: CtxDep, page: PageDep) -> dict:
    """The tenant's users (owners and admins only), by id, `{items, next_cursor}`."""
    docs = repo.list_users(ctx.system, who.tenant_id, limit=page.limit + 1, after=page.after())
    return page.answer([repo.public_user(d) for d in docs], lambda u: u["id"])


@router.get("/users/directory")
def user_directory(who: PrincipalDep, ctx: CtxDep) -> dict:
    """Every member's id and display name (any role): what a device needs to name the people
    in a shared session's notes and exports, offline too. No e-mails, roles or status."""
    docs = repo.list_users(ctx.system, who.tenant_id)
    return {
        "items": [{"id": d["user_id"], "display_name": d["display_name"]} for d in docs],
        "next_cursor": None,
    }


@router.post("/users", status_code=201, responses=errors({409: "The e-mail already has an account."}))
def create_user(body: UserCreate, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Create a user in the caller's tenant. Without `password`, a random one is generated and
    returned once as `initial_password`."""
    user = service.create(
        ctx, who, email=body.email, display_name=body.display_name, role=body.role, password=body.password
    )
    audit.record(
        ctx,
        who,
        "user.created",
        "user",
        user["id"],
        ip=client_address(request),
        details={"email": user["email"], "role": user["role"]},
    )
    return user


@router.post(
    "/users/invite",
    status_code=201,
    dependencies=[InvitationMailLimit],
    responses={
        201: _INVITED,
        **errors(
            {
                409: "The e-mail already has an account.",
                429: "Your team e-mailed its hourly allowance of invitations: wait `Retry-After`.",
            }
        ),
    },
)
def invite_user(body: UserInvite, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Invite someone by e-mail: answers an `invite_url` (valid 7 days); they choose their own
    password there. When the server sends e-mail (BRANCHLINE_SMTP_URL) the invitee is e-mailed
    the link in the workspace's brand (`emailed: true`); otherwise pass the link on yourself.
    The account cannot sign in until the invitation is accepted."""
    from ..auth.endpoints import public_base  # noqa: PLC0415

    invited = service.invite(
        ctx,
        who,
        email=body.email,
        display_name=body.display_name,
        role=body.role,
        base_url=public_base(ctx, request),
    )
    audit.record(
        ctx,
        who,
        "user.invited",
        "user",
        invited["id"],
        ip=client_address(request),
        details={"email": invited["email"], "role": invited["role"]},
    )
    return _with_email(ctx, who, invited)


@router.post("/auth/accept-invite")
def accept_invite(body: InviteAccept, ctx: CtxDep) -> dict:
    """Accept an invitation: set your password (and name) and get signed in."""
    return service.accept_invite(ctx, body.token, body.password, body.display_name)


@router.post("/auth/invitation")
def check_invitation(body: InviteCheck, ctx: CtxDep) -> dict:
    """What an invitation link is for, before accepting it: `{email, display_name, role, tenant:
    {id, name}, expires_at}`. An expired or already used link answers 401 saying so."""
    return service.describe_invite(ctx, body.token)


@router.post(
    "/auth/forgot-password",
    status_code=202,
    dependencies=[PasswordResetLimit],
    responses=errors(
        {429: "Too many reset requests from your address, or for this e-mail: wait `Retry-After`."}
    ),
)
def forgot_password(body: ForgotPassword, ctx: CtxDep, later: BackgroundTasks) -> dict:
    """Ask for a link to choose a new password, e-mailed to the address if an account uses it
    (valid 1 hour, works once). The answer `{message, emailed, configured}` is the same whether
    or not the address has an account; `configured: false` when this server sends no e-mail
    (then an admin resets the password). At most 3 requests per address asked for, and 10 per
    client address, an hour."""
    from ..ratelimit.deps import charge  # noqa: PLC0415

    charge(
        ctx, "password_reset_mails", repo.normalize_email(body.email), "asking for reset links for one e-mail"
    )
    # The link never takes its address from this request's Host (anyone may send one): see
    # `mail.service.brand_of`. The account is looked up and its link queued only once the answer
    # is sent, so the answer takes as long whether or not the address has an account.
    later.add_task(reset.send_link, ctx, body.email)
    return reset.answer(ctx)


@router.post("/auth/password-reset")
def check_password_reset(body: ResetCheck, ctx: CtxDep) -> dict:
    """Whose password a reset link sets, before it is used: `{email, expires_at}`. A used,
    replaced or expired link answers 401 saying so."""
    return reset.describe_reset(ctx, body.token)


@router.post("/auth/reset-password")
def reset_password(body: ResetPassword, ctx: CtxDep, request: Request) -> dict:
    """Choose a new password with a reset link's token: every other sign-in of the account ends,
    and this one is signed in (the usual token pair). The link works once."""
    user, pair = reset.reset_password(ctx, body.token, body.password, client_address(request))
    audit.record(
        ctx,
        user,
        "user.password_reset",
        "user",
        user["user_id"],
        ip=client_address(request),
        details={"via": "email_link"},
        tenant_id=user["tenant_id"],
    )
    return pair


@router.post(
    "/users/{user_id}/invite",
    dependencies=[InvitationMailLimit],
    responses={
        200: _INVITED,
        **errors(
            {
                409: "The user has already accepted.",
                429: "Your team e-mailed its hourly allowance of invitations: wait `Retry-After`.",
            }
        ),
    },
)
def resend_invite(user_id: str, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Send a new invitation link to someone who has not accepted yet (also after it expired or
    was cancelled): answers a fresh `invite_url`, e-mailed to them as well when the server sends
    e-mail (`emailed`); the previous link stops working. 409 for an account that already has a
    password."""
    from ..auth.endpoints import public_base  # noqa: PLC0415

    sent = service.resend_invite(ctx, who, user_id, base_url=public_base(ctx, request))
    audit.record(ctx, who, "user.invite_resent", "user", user_id, ip=client_address(request))
    return _with_email(ctx, who, sent)


@router.delete("/users/{user_id}/invite", responses=errors({409: "No invitation is pending."}))
def cancel_invite(user_id: str, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Cancel a pending invitation: its link stops working. The account stays unusable until an
    invitation is sent again. 409 when nothing is pending."""
    cancelled = service.cancel_invite(ctx, who, user_id)
    audit.record(ctx, who, "user.invite_cancelled", "user", user_id, ip=client_address(request))
    return cancelled


@router.get("/users/{user_id}")
def get_user(user_id: str, who: AdminDep, ctx: CtxDep) -> dict:
    """One user of the caller's tenant, with `security_events`: the account's recent lockouts
    (repeated wrong passwords), each `{type, at, address, locked_seconds, failures}`."""
    user = repo.require_user(ctx.system, who.tenant_id, user_id)
    return {**repo.public_user(user), "security_events": user.get("security_events", [])}


@router.patch(
    "/users/{user_id}",
    responses=errors(
        {409: "The change would leave no active owner, or reactivates a user who never accepted."}
    ),
)
def update_user(user_id: str, body: UserUpdate, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Change a user's role, name, `reviewer` flag (a named reviewer approves publish reviews),
    or deactivate them (`active: false`; their tokens stop at once).
    A tenant always keeps an active owner. Someone invited who has not accepted yet cannot be
    reactivated (409): they have no password; resend the invitation instead."""
    before = repo.public_user(repo.require_user(ctx.system, who.tenant_id, user_id))
    after = service.update(
        ctx,
        who,
        user_id,
        display_name=body.display_name,
        role=body.role,
        active=body.active,
        reviewer=body.reviewer,
    )
    for action, details in audit.user_changes(before, after):
        audit.record(ctx, who, action, "user", user_id, ip=client_address(request), details=details)
    return after


@router.patch("/me")
def update_profile(body: ProfileUpdate, who: PrincipalDep, ctx: CtxDep) -> dict:
    """Change your own display name."""
    if who.kind != "user":
        from sync.errors import Forbidden  # noqa: PLC0415

        raise Forbidden("API keys have no profile.")
    user = repo.require_user(ctx.system, who.tenant_id, who.user_id)
    user["display_name"] = body.display_name.strip()
    return repo.public_user(repo.update_user(ctx.system, user))


@router.post("/me/password")
def change_password(body: PasswordChange, who: PrincipalDep, ctx: CtxDep, request: Request) -> dict:
    """Change your password. Every other sign-in of yours ends; a fresh token pair is returned.
    Wrong current passwords are throttled like sign-ins (429 with Retry-After)."""
    pair = service.change_own_password(
        ctx, who, body.current_password, body.new_password, client_address(request)
    )
    audit.record(ctx, who, "user.password_changed", "user", who.user_id, ip=client_address(request))
    return pair
