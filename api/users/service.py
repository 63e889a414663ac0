"""Managing users: roles, deactivation (tokens stop at once), the last-owner rule, passwords."""

from __future__ import annotations

import secrets
from typing import Any

from sync.access import Principal
from sync.errors import BadRequest, Conflict, Forbidden, Unauthorized

from ..auth import service as auth
from ..auth.passwords import check_password_policy, hash_password, verify_password
from ..core.context import AppContext
from ..core.timeutil import iso
from . import repository as repo

# No 0/o, 1/l/i: a password read off a terminal is typed on a phone.
_READABLE = "abcdefghjkmnpqrstuvwxyz23456789"


def generate_password() -> str:
    """Four groups of five readable characters, about 99 bits."""
    return "-".join("".join(secrets.choice(_READABLE) for _ in range(5)) for _ in range(4))


def create(
    ctx: AppContext, who: Principal, *, email: str, display_name: str, role: str, password: str | None
) -> dict[str, Any]:
    if role == "owner" and who.role != "owner":
        raise Forbidden("Only an owner can create another owner.")
    shown = password is None
    password = password or generate_password()
    user = auth.create_user(
        ctx, who.tenant_id, email=email, password=password, display_name=display_name, role=role
    )
    out = repo.public_user(user)
    if shown:
        out["initial_password"] = password  # shown once; the user should change it
    return out


INVITE_DAYS = 7


def _issue_invite(ctx: AppContext, who: Principal, user: dict[str, Any], base_url: str) -> dict[str, Any]:
    """Give `user` a fresh invitation link (any earlier link stops working) and store it."""
    import time  # noqa: PLC0415

    from ..auth.tokens import hash_secret  # noqa: PLC0415

    secret = secrets.token_urlsafe(32)
    token = f"inv.{who.tenant_id}.{user['user_id']}.{secret}"
    user["invite"] = {
        "hash": hash_secret(secret),
        "expires_at": int(time.time() + INVITE_DAYS * 86400),
        "invited_by": who.user_id,
        "invited_at": iso(),
    }
    user["active"] = False  # cannot sign in until the invite is accepted
    user["password_unset"] = True  # nobody knows its password: only accepting an invitation activates it
    user["updated_at"] = iso()
    user = repo.update_user(ctx.system, user)
    out = repo.public_user(user)
    out.update(
        invite_token=token,
        invite_url=f"{base_url}/accept-invite#token={token}",
        invite_expires_at=user["invite"]["expires_at"],
    )
    return out


def invite(
    ctx: AppContext, who: Principal, *, email: str, display_name: str, role: str, base_url: str
) -> dict[str, Any]:
    """Create an account that the invitee activates by choosing a password (link valid 7 days)."""
    if role == "owner" and who.role != "owner":
        raise Forbidden("Only an owner can invite another owner.")
    # The account starts with an unguessable password nobody knows; accepting sets the real one.
    user = auth.create_user(
        ctx,
        who.tenant_id,
        email=email,
        password=generate_password() + "-" + secrets.token_urlsafe(16),
        display_name=display_name,
        role=role,
    )
    return _issue_invite(ctx, who, user, base_url)


def resend_invite(ctx: AppContext, who: Principal, user_id: str, *, base_url: str) -> dict[str, Any]:
    """A new link (valid 7 days) for someone who has not accepted yet; the old link stops working.
    Also revives an expired or cancelled invitation."""
    user = repo.require_user(ctx.system, who.tenant_id, user_id)
    if not repo.awaiting_invite(user):
        raise Conflict(
            f"{user['email']} has already accepted an invitation and has a password; there is "
            "nothing to resend. Deactivate or reactivate the account instead."
        )
    if user["role"] == "owner" and who.role != "owner":
        raise Forbidden("Only an owner can invite another owner.")
    return _issue_invite(ctx, who, user, base_url)


def cancel_invite(ctx: AppContext, who: Principal, user_id: str) -> dict[str, Any]:
    """The pending invitation's link stops working; the account stays, unusable, until an
    invitation is sent again."""
    user = repo.require_user(ctx.system, who.tenant_id, user_id)
    if not user.get("invite"):
        raise Conflict(f"{user['email']} has no pending invitation to cancel.")
    user.pop("invite")
    user["updated_at"] = iso()
    return repo.public_user(repo.update_user(ctx.system, user))


def _check_invite(ctx: AppContext, token: str) -> dict[str, Any]:
    """The invited user of a link, or the error that says why the link does not work."""
    import time  # noqa: PLC0415

    from ..auth.tokens import hash_secret, same_hash  # noqa: PLC0415

    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 4 or parts[0] != "inv":
        raise BadRequest("The invitation link is malformed; ask for a new one.")
    _, tenant_id, user_id, secret = parts
    user = repo.get_user(ctx.system, tenant_id, user_id)
    invite_ = (user or {}).get("invite")
    if user is None or not invite_ or not same_hash(invite_["hash"], hash_secret(secret)):
        raise Unauthorized(
            "This invitation is not valid (already used or replaced); ask an admin for a new one."
        )
    if invite_["expires_at"] < time.time():
        raise Unauthorized(
            "This invitation has expired; ask an admin to invite you again.", error="invite_expired"
        )
    return user


def describe_invite(ctx: AppContext, token: str) -> dict[str, Any]:
    """What the accept screen shows before a password is chosen: who is invited, to which team."""
    from ..tenants import repository as tenants  # noqa: PLC0415

    user = _check_invite(ctx, token)
    tenant = tenants.get_tenant(ctx.system, user["tenant_id"])
    return {
        "email": user["email"],
        "display_name": user["display_name"],
        "role": user["role"],
        "tenant": {"id": user["tenant_id"], "name": tenant.get("name")},
        "expires_at": user["invite"]["expires_at"],
    }


def accept_invite(ctx: AppContext, token: str, password: str, display_name: str | None) -> dict[str, Any]:
    """Activate the invited account with the chosen password and sign it in. When the team
    requires single sign-on, the account is activated but gets no password and no session:
    the answer (403 `sso_required`) says to sign in through SSO."""
    user = _check_invite(ctx, token)
    try:
        auth.sso_required(ctx, user)
        sso_only = None
    except Forbidden as exc:
        sso_only = exc
    if sso_only is None:
        check_password_policy(password, email=user["email"])
        user["password_hash"] = hash_password(password)
    # Under SSO the password stays one nobody knows, as for an account made on a first SSO
    # sign-in; the account is no longer awaiting its invitation either way.
    user.pop("password_unset", None)
    if display_name and display_name.strip():
        user["display_name"] = display_name.strip()
    user["active"] = True
    user.pop("invite")
    user["updated_at"] = iso()
    user = repo.update_user(ctx.system, user)
    if sso_only is not None:
        raise Forbidden(f"Your invitation is accepted. {sso_only}", error="sso_required")
    return auth.token_pair(ctx, user)


def _active_owners(ctx: AppContext, tenant_id: str) -> list[dict]:
    return [u for u in repo.list_users(ctx.system, tenant_id) if u["role"] == "owner" and u["active"]]


def update(
    ctx: AppContext,
    who: Principal,
    user_id: str,
    *,
    display_name: str | None,
    role: str | None,
    active: bool | None,
    reviewer: bool | None = None,
) -> dict[str, Any]:
    user = repo.require_user(ctx.system, who.tenant_id, user_id)
    touches_owner = user["role"] == "owner" or role == "owner"
    if touches_owner and (role is not None or active is not None) and who.role != "owner":
        raise Forbidden("Only an owner can change an owner's role or status, or make someone an owner.")
    losing_owner = (
        user["role"] == "owner"
        and user["active"]
        and ((role is not None and role != "owner") or active is False)
    )
    if losing_owner and len(_active_owners(ctx, who.tenant_id)) <= 1:
        raise Conflict("A team must keep at least one active owner: make someone else an owner first.")
    if display_name is not None:
        if not display_name.strip():
            raise BadRequest("display_name must not be empty.")
        user["display_name"] = display_name.strip()
    if role is not None:
        user["role"] = auth.check_role(role)
    if reviewer is not None:
        user["reviewer"] = reviewer
    if active is True and not user["active"] and repo.awaiting_invite(user):
        raise Conflict(
            f"{user['email']} has not accepted the invitation yet, so the account has no password "
            f"and cannot be reactivated; resend the invitation (POST /api/v1/users/{user['user_id']}/invite) "
            "and they activate it by choosing a password."
        )
    if active is False and user.get("invite"):
        user.pop("invite")  # deactivating a pending invitee cancels the invitation link
    if active is not None and active != user["active"]:
        user["active"] = active
        if not active:
            auth.bump_token_epoch(ctx, user)  # every token of the user stops working now
            # and a reset link sent before must not come back to life on a reactivation
            user.pop("password_reset", None)
    user["updated_at"] = iso()
    return repo.public_user(repo.update_user(ctx.system, user))


def set_password(ctx: AppContext, user: dict, new_password: str) -> dict:
    check_password_policy(new_password, email=user["email"])
    user["password_hash"] = hash_password(new_password)
    user.pop("password_unset", None)  # someone now knows it (e.g. an admin's reset-password)
    user.pop("password_reset", None)  # a reset link sent before no longer works
    auth.bump_token_epoch(ctx, user)
    user["updated_at"] = iso()
    return repo.update_user(ctx.system, user)


def change_own_password(
    ctx: AppContext, who: Principal, current: str, new: str, address: str | None = None
) -> dict:
    """Throttled like sign-in: wrong current passwords lock the change for this account from
    this address (429), and the lockout is recorded in the account's `security_events`."""
    account = f"password-change:{who.tenant_id}:{who.user_id}"
    auth.throttle(ctx).check(account, address)
    user = repo.require_user(ctx.system, who.tenant_id, who.user_id)
    if not verify_password(user["password_hash"], current):
        auth.failed_attempt(ctx, user, account, address, "password_change_locked")
        raise Unauthorized("The current password is wrong.")
    auth.throttle(ctx).success(account, address)
    set_password(ctx, user, new)
    return auth.token_pair(ctx, user)  # the old sign-ins ended; hand this device a fresh one
