"""A forgotten password: a link e-mailed to the account's address, valid 1 hour, used once.

The request's answer is the same whether or not an account uses the address (and whether
it is deactivated, never accepted its invitation, or signs in through SSO): only the
address's owner learns anything, by the message. Requests are limited per client address
and per address asked for (`api/ratelimit/deps.py`), so the link cannot be used to flood a
mailbox. The token is `pwr.{tenant}.{user}.{secret}`; only the secret's hash is stored, in
the account's `password_reset`. A newer request adds a link and keeps the earlier ones of the
hour working (`earlier`): voiding them would let anyone who knows the address spend its three
requests an hour on links that die before their owner opens them, and a mail delayed in a
queue would arrive dead. A use of any of them, or any password change, voids them all.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from sync.errors import BadRequest, Conflict, Forbidden, Unauthorized

from ..auth import service as auth
from ..auth.tokens import hash_secret, same_hash
from ..core.context import AppContext
from ..core.keyed_locks import KeyedLocks
from ..core.timeutil import iso
from ..mail import service as mail
from . import repository as repo

log = logging.getLogger("branchline.mail")
_sending = KeyedLocks()
RESET_SECONDS = 3600
EARLIER_KEPT = 4  # links of the hour kept besides the newest (mails are limited to 3 an hour per address)
ANSWER = (
    "If an account uses this address, a link to choose a new password is on its way to it "
    "(valid 1 hour). Nothing arrived? Check the spam folder, or ask your team's admin."
)


def answer(ctx: AppContext) -> dict[str, Any]:
    """The answer to a reset request: the same for every address, with or without an account."""
    if not mail.configured(ctx):
        return {"message": mail.NOT_CONFIGURED_RESET, "emailed": False, "configured": False}
    return {"message": ANSWER, "emailed": True, "configured": True}


def send_link(ctx: AppContext, email: str) -> None:
    """Queue a reset link for the account of `email`, if one may use it. Run after the answer
    has gone out: updating the account and rendering, sealing and queueing its message take
    several times as long as finding no account, and a caller timing the answer would learn
    which addresses have one. Never raises (nobody is left to tell)."""
    if not mail.configured(ctx):
        return
    # Requests for one address at once take turns here, so none loses its link to another's
    # update of the account; a conflict is then another server process's, which the retries
    # absorb.
    with _sending(repo.normalize_email(email)):
        _send_link(ctx, email)


def _send_link(ctx: AppContext, email: str) -> None:
    try:
        for _ in range(5):  # another process's request for the address wrote first: again
            user = repo.find_by_email(ctx.system, email)
            if user is None or not _may_reset(ctx, user):
                return
            secret = secrets.token_urlsafe(32)
            user["password_reset"] = {
                "hash": hash_secret(secret),
                "expires_at": int(time.time() + RESET_SECONDS),
                "requested_at": iso(),
                "earlier": _still_valid(user.get("password_reset"), time.time())[:EARLIER_KEPT],
            }
            try:
                user = repo.update_user(ctx.system, user)
            except Conflict:
                continue
            mail.password_reset(ctx, user, f"pwr.{user['tenant_id']}.{user['user_id']}.{secret}")
            return
        log.warning("mail: a password reset link was not queued: the account kept changing")
    except Exception:
        log.exception("mail: a password reset link could not be queued")


def _may_reset(ctx: AppContext, user: dict[str, Any]) -> bool:
    """Active, with a password someone chose (an invitee accepts their invitation instead),
    and allowed to sign in with a password at all (not an SSO-only team)."""
    if not user.get("active") or repo.awaiting_invite(user):
        return False
    try:
        auth.sso_required(ctx, user)
    except Forbidden:
        return False
    return True


def _links(pending: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every link of a pending reset, the newest first: `{hash, expires_at}`."""
    if not isinstance(pending, dict) or not pending.get("hash"):
        return []
    earlier = [e for e in pending.get("earlier") or [] if isinstance(e, dict) and e.get("hash")]
    return [{"hash": pending["hash"], "expires_at": pending["expires_at"]}, *earlier]


def _still_valid(pending: dict[str, Any] | None, now: float) -> list[dict[str, Any]]:
    return [link for link in _links(pending) if link["expires_at"] >= now]


def _check(ctx: AppContext, token: str) -> tuple[dict[str, Any], int]:
    """The account a link may reset and when the link expires; 400, 401 or 403 otherwise."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 4 or parts[0] != "pwr":
        raise BadRequest(
            "The reset link is malformed; open the whole link from the e-mail, or ask for a new one."
        )
    _, tenant_id, user_id, secret = parts
    user = repo.get_user(ctx.system, tenant_id, user_id)
    given = hash_secret(secret)
    # Every stored link is compared, so the time taken does not say which one matched.
    matches = [link for link in _links((user or {}).get("password_reset")) if same_hash(link["hash"], given)]
    if user is None or not matches:
        raise Unauthorized("This reset link is not valid (already used); ask for a new one.")
    if matches[0]["expires_at"] < time.time():
        raise Unauthorized(
            "This reset link has expired (it lasts 1 hour); ask for a new one.", error="reset_expired"
        )
    if not _may_reset(ctx, user):
        raise Forbidden("This account cannot set a password this way; ask your team's admin.")
    return user, int(matches[0]["expires_at"])


def describe_reset(ctx: AppContext, token: str) -> dict[str, Any]:
    """Whose password a link resets, before a new one is chosen: `{email, expires_at}`."""
    user, expires_at = _check(ctx, token)
    return {"email": user["email"], "expires_at": expires_at}


def reset_password(
    ctx: AppContext, token: str, password: str, address: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the new password (every other sign-in ends) and sign this device in: the account and
    its token pair. The link is spent, and the lockout its owner's wrong passwords caused from
    `address` ends: whoever opened the e-mailed link knows the password now."""
    from .service import set_password  # noqa: PLC0415

    for _ in range(3):
        user, _ = _check(ctx, token)  # after a conflict: a use of the link in another tab ends here (401)
        user.pop("password_reset", None)
        try:
            user = set_password(ctx, user, password)  # checks the policy first; nothing changes if refused
            break
        except Conflict:
            continue  # the account changed meanwhile: read it again
    else:
        raise Conflict("The account kept changing while the new password was saved; try again.")
    auth.throttle(ctx).success(repo.normalize_email(user["email"]), address)
    return user, auth.token_pair(ctx, user)
