"""Sign-up, sign-in, token rotation, and resolving a request's credentials to a Principal."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
import time
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import Any

from sync.access import ROLES, Principal
from sync.errors import BadRequest, Conflict, Forbidden, Unauthorized
from sync.naming import SYSTEM_DB

from ..audit import instance as instance_audit, service as audit
from ..core.context import AppContext
from ..core.docs import get_or_none, retry_on_conflict, save
from ..core.ids import new_id
from ..core.timeutil import iso
from ..tenants import repository as tenants
from ..users import repository as users
from . import tokens
from .passwords import burn_verify_time, check_password_policy, hash_password, needs_rehash, verify_password
from .throttle import LoginThrottle, build_throttle

log = logging.getLogger("branchline.auth")

# The newest security events kept on an account (`security_events`, oldest first).
MAX_SECURITY_EVENTS = 20


def throttle(ctx: AppContext) -> LoginThrottle:
    t = ctx.login_throttle
    if t is None:
        t = ctx.login_throttle = build_throttle(ctx)
    return t


# --- users and tenants ------------------------------------------------------------------


def check_role(role: str) -> str:
    if role not in ROLES:
        raise BadRequest(f"Unknown role {role!r}; use one of: {', '.join(ROLES)}.")
    return role


def _mailbox(email_n: str) -> bool:
    """Whether `email_n` is one address a message can be sent to: with a name around it
    (`Pat <pat@example.com>`), two at once or a space inside, the account could never be
    e-mailed (its invitation or password reset), so it is refused when the account is made."""
    if "@" not in email_n or len(email_n) > 254 or email_n.startswith("@") or email_n.endswith("@"):
        return False
    # Letters beyond ASCII stand in as "x": such addresses were always taken, and whether they
    # can be e-mailed depends on the mail server (SMTPUTF8), not on how they were typed.
    probe = "".join(c if c.isascii() else "x" for c in email_n)
    try:
        return Address(addr_spec=probe).addr_spec == probe
    except (ValueError, HeaderParseError):
        return False


def create_user(
    ctx: AppContext, tenant_id: str, *, email: str, password: str, display_name: str, role: str
) -> dict[str, Any]:
    """Create a user; the e-mail is claimed first so two concurrent sign-ups cannot share it."""
    email_n = users.normalize_email(email)
    if not _mailbox(email_n):
        raise BadRequest(
            f"{email!r} is not an e-mail address: give the address alone, one per account, "
            "e.g. pat@example.com."
        )
    check_role(role)
    check_password_policy(password, email=email_n)
    display_name = (display_name or "").strip() or email_n.split("@")[0]
    if len(display_name) > 120:
        raise BadRequest("The display name is too long: use at most 120 characters.")
    user_id = new_id()
    pw_hash = hash_password(password)
    users.claim_email(ctx.system, email_n, tenant_id, user_id)
    try:
        return users.insert_user(
            ctx.system,
            {
                "_id": users.user_doc_id(tenant_id, user_id),
                "type": "user",
                "schema_version": 1,
                "tenant_id": tenant_id,
                "user_id": user_id,
                "email": email_n,
                "display_name": display_name,
                "role": role,
                "password_hash": pw_hash,
                "active": True,
                "token_epoch": 0,
                "created_at": iso(),
                "updated_at": iso(),
            },
        )
    except Exception:
        users.release_email(ctx.system, email_n)
        raise


def on_tenant_created(ctx: AppContext, tenant_id: str, *, starter_library: bool) -> None:
    """Hooks other features register (e.g. the starter library loader)."""
    for hook in ctx.tenant_created_hooks:
        hook(ctx, tenant_id, starter_library=starter_library)


def create_tenant(
    ctx: AppContext,
    *,
    tenant_name: str,
    email: str,
    password: str,
    display_name: str,
    starter_library: bool = True,
    address: str | None = None,
) -> tuple[dict, dict]:
    """A tenant, its databases and its owner; undone as a whole if any step fails.

    An e-mail belongs to one account, so a sign-up with a taken e-mail must be refused, and
    the refusal says the e-mail has an account (hiding it would need a confirmation e-mail,
    which Branchline does not send). What keeps that from becoming a way to list the
    customers of every tenant: a refused sign-up from `address` (the client's, None from
    the command line) counts as a failed sign-in of that address, so probing e-mails by
    sign-up or by login shares one small budget per address.
    """
    name = (tenant_name or "").strip()
    if not name or len(name) > 120:
        raise BadRequest("tenant_name must be 1 to 120 characters: the MSP's name as your team knows it.")
    # Check the cheap things before creating anything, so a refused sign-up leaves nothing behind.
    check_password_policy(password, email=users.normalize_email(email))
    limiter = throttle(ctx) if address else None
    if limiter is not None:
        limiter.check(None, address)
    if users.find_by_email(ctx.system, email) is not None:
        if limiter is not None:
            limiter.failure(None, address)
        raise Conflict(
            f"The e-mail {users.normalize_email(email)} already has an account. "
            "Sign in instead, or use another address."
        )
    tenant_id = new_id(10)
    owner = create_user(
        ctx, tenant_id, email=email, password=password, display_name=display_name, role="owner"
    )
    try:
        tenant = tenants.insert_tenant(ctx.system, tenant_id, name)
        tenants.create_tenant_databases(ctx.store, tenant_id)
        on_tenant_created(ctx, tenant_id, starter_library=starter_library)
    except Exception:
        _undo_tenant(ctx, tenant_id, owner)
        raise
    return tenant, owner


def _undo_tenant(ctx: AppContext, tenant_id: str, owner: dict) -> None:
    users.release_email(ctx.system, owner["email"])
    for doc_id in (owner["_id"], tenants.tenant_doc_id(tenant_id)):
        doc = get_or_none(ctx.system, doc_id)
        if doc:
            ctx.system.delete(doc_id, doc["_rev"])
    for name in tenants.list_tenant_databases(ctx.store, tenant_id):
        ctx.store.delete_db(tenants.physical_name(tenant_id, name))


# --- tokens ------------------------------------------------------------------------------


def _family_id(tenant_id: str, family: str) -> str:
    return f"rtfamily:{tenant_id}:{family}"


def _refresh_id(tenant_id: str, token_id: str) -> str:
    return f"refresh:{tenant_id}:{token_id}"


def _issue_refresh(ctx: AppContext, user: dict, family: str, rt: tokens.RefreshToken | None = None) -> str:
    """Store a new refresh token (`rt` when given: a rotation's derived successor)."""
    rt = rt or tokens.new_refresh_token(user["tenant_id"])
    days = ctx.settings.refresh_token_days
    save(
        ctx.system,
        {
            "_id": _refresh_id(rt.tenant_id, rt.token_id),
            "type": "refresh_token",
            "tenant_id": rt.tenant_id,
            "user_id": user["user_id"],
            "family": family,
            "secret_hash": rt.secret_hash,
            "epoch": user.get("token_epoch", 0),
            "created_at": iso(),
            "expires_at": int(time.time() + days * 86400),
            "used": False,
        },
    )
    return str(rt)


def _answer(ctx: AppContext, user: dict, refresh_token: str, family: str) -> dict[str, Any]:
    access, ttl = tokens.make_access_token(
        ctx.secret,
        user_id=user["user_id"],
        tenant_id=user["tenant_id"],
        minutes=ctx.settings.access_token_minutes,
        epoch=user.get("token_epoch", 0),
        family=family,
    )
    return {"access_token": access, "refresh_token": refresh_token, "token_type": "bearer", "expires_in": ttl}


def token_pair(ctx: AppContext, user: dict, family: str | None = None) -> dict[str, Any]:
    if family is None:
        family = new_id(16)
        save(
            ctx.system,
            {
                "_id": _family_id(user["tenant_id"], family),
                "type": "refresh_family",
                "tenant_id": user["tenant_id"],
                "user_id": user["user_id"],
                "revoked": False,
                "created_at": iso(),
            },
        )
    return _answer(ctx, user, _issue_refresh(ctx, user, family), family)


def login(ctx: AppContext, email: str, password: str, address: str | None) -> dict[str, Any]:
    limiter = throttle(ctx)
    email_n = users.normalize_email(email or "")
    limiter.check(email_n, address)
    user = users.find_by_email(ctx.system, email_n) if email_n else None
    if user is None:
        burn_verify_time(password or "")
        ok = False
    else:
        ok = verify_password(user["password_hash"], password or "")
    if user is None or not ok:
        failed_attempt(ctx, user, email_n, address, "sign_in_locked")
        if user is None:
            # No tenant to file it under: the instance's own log (counted per address and hour).
            try:
                instance_audit.sign_in_failed(ctx, email_n, address)
            except Exception:  # the answer stays "wrong e-mail or password", whatever the log did
                log.exception("the instance audit log could not record a failed sign-in")
        else:
            _sign_in_failed(ctx, user, address, "wrong_password")
        raise Unauthorized("The e-mail or password is wrong. Check both and try again.")
    if not user.get("active", True):
        _sign_in_failed(ctx, user, address, "deactivated")
        raise Forbidden(
            "This account is deactivated. Ask an admin of your team to reactivate it.", error="forbidden"
        )
    limiter.success(email_n, address)
    try:
        sso_required(ctx, user)
    except Forbidden:
        _sign_in_failed(ctx, user, address, "sso_required")
        raise
    _upgrade_hash(ctx, user, password)
    audit.record(ctx, user, "auth.signed_in", "user", user["user_id"], ip=address)
    return token_pair(ctx, user)


def _upgrade_hash(ctx: AppContext, user: dict[str, Any], password: str) -> None:
    """A password hashed at other Argon2 parameters than this server's (an older default, or a
    server that ran with the test suite's fast hashing) is hashed again at the right ones, now
    that the password is known. Best effort: a concurrent change of the account wins, and the
    next sign-in tries again."""
    if not needs_rehash(user["password_hash"]):
        return
    try:
        users.update_user(ctx.system, {**user, "password_hash": hash_password(password)})
    except Conflict:
        pass


def _sign_in_failed(ctx: AppContext, user: dict, address: str | None, reason: str) -> None:
    """A refused password sign-in of a known user, in their team's audit log."""
    audit.record(
        ctx, user, "auth.sign_in_failed", "user", user["user_id"], ip=address, details={"reason": reason}
    )


def sso_required(ctx: AppContext, user: dict) -> None:
    """Refuse a password when the user's team requires single sign-on (api/sso)."""
    from ..sso.service import check_password_allowed  # noqa: PLC0415  (sso builds on auth)

    check_password_allowed(ctx, user)


def failed_attempt(ctx: AppContext, user: dict | None, account: str, address: str | None, kind: str) -> None:
    """Count a wrong password for `account` from `address`; when that locks the account for
    that address, tell its owner: a log line, and an entry in the account's
    `security_events` (shown to the user in /me and to admins in /users/{id})."""
    locked_for = throttle(ctx).failure(account, address)
    if locked_for is None or user is None:
        return
    log.warning(
        "%s: %s (tenant %s) locked for %d s for address %s after repeated wrong passwords",
        kind,
        user["user_id"],
        user["tenant_id"],
        locked_for,
        address or "unknown",
    )
    record_security_event(
        ctx,
        user["tenant_id"],
        user["user_id"],
        {
            "type": kind,
            "at": iso(),
            "address": address,
            "locked_seconds": locked_for,
            "failures": ctx.settings.login_max_failures_per_account,
        },
    )


def record_security_event(ctx: AppContext, tenant_id: str, user_id: str, event: dict[str, Any]) -> None:
    """Append `event` to the account's `security_events`, keeping the newest few."""

    def attempt() -> None:
        user = users.get_user(ctx.system, tenant_id, user_id)
        if user is None:
            return
        user["security_events"] = [*user.get("security_events", []), event][-MAX_SECURITY_EVENTS:]
        users.update_user(ctx.system, user)

    try:
        retry_on_conflict(attempt, busy="The account is being changed; the security event was not recorded.")
    except Conflict:
        log.warning("security event for %s not recorded (conflicting writes): %s", user_id, event)


def _revoke_family(ctx: AppContext, tenant_id: str, family: str) -> None:
    fam = get_or_none(ctx.system, _family_id(tenant_id, family))
    if fam and not fam.get("revoked"):
        fam["revoked"] = True
        fam["revoked_at"] = iso()
        try:
            save(ctx.system, fam)
        except Conflict:
            pass  # someone revoked it at the same moment
    if fam:
        _end_access_tokens(ctx, tenant_id, fam["user_id"], family)


def _end_access_tokens(ctx: AppContext, tenant_id: str, user_id: str, family: str) -> None:
    """Refuse the access tokens of an ended sign-in from now on, not only once they expire.

    Kept on the user document, which every request reads anyway, so checking costs
    nothing; an entry is dropped once every access token it could refuse has expired.
    """
    now = int(time.time())
    until = now + int(ctx.settings.access_token_minutes * 60) + 60

    def attempt() -> None:
        user = users.get_user(ctx.system, tenant_id, user_id)
        if user is None:
            return
        ended = {f: t for f, t in (user.get("ended_families") or {}).items() if t > now}
        ended[family] = until
        user["ended_families"] = ended
        save(ctx.system, user)

    retry_on_conflict(
        attempt,
        busy="The sign-out could not be recorded (the account was being "
        "changed at the same moment); try again.",
    )


def _load_refresh(ctx: AppContext, raw: str) -> tuple[dict, dict]:
    rt = tokens.parse_refresh_token(raw)
    doc = get_or_none(ctx.system, _refresh_id(rt.tenant_id, rt.token_id))
    if doc is None or not tokens.same_hash(doc["secret_hash"], rt.secret_hash):
        raise Unauthorized("The refresh token is not valid; sign in again.")
    fam = get_or_none(ctx.system, _family_id(doc["tenant_id"], doc["family"]))
    if fam is None or fam.get("revoked"):
        raise Unauthorized(
            "This sign-in was ended (signed out or revoked); sign in again.", error="token_revoked"
        )
    return doc, fam


def _user_of(ctx: AppContext, doc: dict) -> dict:
    user = users.get_user(ctx.system, doc["tenant_id"], doc["user_id"])
    if user is None or not user.get("active", True) or user.get("token_epoch", 0) != doc.get("epoch", 0):
        raise Unauthorized(
            "This account's sign-ins were ended (deactivated or password reset); sign in again.",
            error="token_revoked",
        )
    return user


def _address_mark(ctx: AppContext, address: str | None) -> str:
    # Which client spent a token, without storing its address.
    return hmac.new(
        ctx.secret.encode(), f"refresh-client:{address or ''}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def _retry_answer(
    ctx: AppContext, successor: tokens.RefreshToken, doc: dict, address: str | None
) -> dict[str, Any] | None:
    """The answer to a retried rotation, or None when this is a reuse to punish.

    A spent token presented again by the client address that spent it, within the grace
    period, while its successor is still unused, is that client asking again (its first
    answer was lost on the way, or two tabs refreshed at once): it gets the same successor,
    so no second line of tokens is minted. The trade-off: someone replaying a copied token
    from that same address within the grace also receives the successor; the two holders
    then share one line, and the sign-in is revoked as soon as one of them refreshes later
    than the grace after the other's rotation.
    """
    grace = ctx.settings.refresh_retry_grace_seconds
    used_ts = doc.get("used_ts")
    if grace <= 0 or not isinstance(used_ts, (int, float)) or time.time() - used_ts > grace:
        return None
    if not hmac.compare_digest(doc.get("used_by") or "", _address_mark(ctx, address)):
        return None
    if doc.get("successor_id") != successor.token_id:
        return None  # derived under another server key: not the successor that was issued
    user = _user_of(ctx, doc)
    if not _store_successor(ctx, user, doc["family"], successor):
        return None
    return _answer(ctx, user, str(successor), doc["family"])


def _store_successor(ctx: AppContext, user: dict, family: str, successor: tokens.RefreshToken) -> bool:
    """Store a rotation's successor, or find it stored (by the request a retry repeats).

    False when what is stored under its id is not this unused successor of `family`."""
    existing = get_or_none(ctx.system, _refresh_id(successor.tenant_id, successor.token_id))
    if existing is None:
        try:
            _issue_refresh(ctx, user, family, successor)
            return True
        except Conflict:  # stored a moment ago by the other request
            existing = get_or_none(ctx.system, _refresh_id(successor.tenant_id, successor.token_id))
    return (
        existing is not None
        and not existing.get("used")
        and existing.get("family") == family
        and tokens.same_hash(existing["secret_hash"], successor.secret_hash)
    )


def _reused(ctx: AppContext, doc: dict, reason: str) -> Unauthorized:
    # A used token coming back means it was copied: end every token of that sign-in.
    _revoke_family(ctx, doc["tenant_id"], doc["family"])
    return Unauthorized(reason, error="token_reused")


def refresh(ctx: AppContext, raw: str, address: str | None = None) -> dict[str, Any]:
    doc, _fam = _load_refresh(ctx, raw)
    parent = tokens.parse_refresh_token(raw)
    successor = tokens.successor_token(ctx.secret, parent)
    if doc.get("used"):
        answer = _retry_answer(ctx, successor, doc, address)
        if answer is not None:
            return answer
        # An account whose sign-ins were ended says so, whatever the token's history.
        _revoke_family(ctx, doc["tenant_id"], doc["family"])
        _user_of(ctx, doc)
        raise _reused(
            ctx,
            doc,
            "This refresh token was already used, so the sign-in it belongs to has been "
            "revoked to protect the account; sign in again.",
        )
    if doc["expires_at"] < time.time():
        raise Unauthorized("The refresh token has expired; sign in again.", error="token_expired")
    user = _user_of(ctx, doc)
    doc["used"] = True
    doc["used_at"] = iso()
    doc["used_ts"] = time.time()
    doc["used_by"] = _address_mark(ctx, address)
    doc["successor_id"] = successor.token_id
    try:
        save(ctx.system, doc)
    except Conflict:
        # Spent by another request at this very moment (two tabs, or a retry overtaking the
        # request it repeats): answered as a retry when that is what it is.
        doc = get_or_none(ctx.system, doc["_id"]) or doc
        answer = _retry_answer(ctx, successor, doc, address) if doc.get("used") else None
        if answer is not None:
            return answer
        raise _reused(
            ctx, doc, "This refresh token was used twice at the same time; sign in again."
        ) from None
    if not _store_successor(ctx, user, doc["family"], successor):
        raise _reused(ctx, doc, "This refresh token was used twice at the same time; sign in again.")
    return _answer(ctx, user, str(successor), doc["family"])


def logout(ctx: AppContext, raw: str) -> None:
    doc, _fam = _load_refresh(ctx, raw)
    _revoke_family(ctx, doc["tenant_id"], doc["family"])


def bump_token_epoch(ctx: AppContext, user: dict) -> dict:
    """End every token of a user at once (password reset, deactivation)."""
    user["token_epoch"] = int(user.get("token_epoch", 0)) + 1
    return user


# --- request credentials -----------------------------------------------------------------

_basic_cache: dict[str, tuple[float, str, str, str]] = {}
_basic_lock = threading.Lock()
_BASIC_TTL = 300.0


def _principal_for_user(
    user: dict | None, *, epoch: int | None = None, family: str | None = None
) -> Principal:
    if user is None:
        raise Unauthorized("The account behind these credentials no longer exists; sign in again.")
    if not user.get("active", True):
        raise Unauthorized(
            "This account is deactivated. Ask an admin of your team to reactivate it.",
            error="account_deactivated",
        )
    if epoch is not None and int(user.get("token_epoch", 0)) != epoch:
        raise Unauthorized(
            "This sign-in was ended (password reset or deactivation); sign in again.", error="token_revoked"
        )
    if family is not None and family in (user.get("ended_families") or {}):
        raise Unauthorized(
            "This sign-in was ended (signed out, or its refresh token was reused); sign in again.",
            error="token_revoked",
        )
    return Principal(
        tenant_id=user["tenant_id"],
        user_id=user["user_id"],
        role=user["role"],
        kind="user",
        email=user["email"],
        extra={"display_name": user["display_name"]},
    )


# A replicating client sends the same access token on hundreds of requests, and what its
# signature proves cannot change before it expires; so the verified claims are remembered
# until then. Only the signature check is skipped: the user document is still read on
# every request, so deactivation and a bumped token epoch (password reset) refuse the
# token at once. Entries remember the secret they were checked with (a rotated secret
# invalidates them) and the cache is per AppContext.
_JWT_CACHE_MAX = 10_000


def _cached_claims(ctx: AppContext, token: str) -> tuple[str, str, int, float, str | None] | None:
    cache = ctx.access_token_cache
    hit = cache.get(token)
    if hit is None:
        return None
    expires, secret, tenant_id, user_id, epoch, family = hit
    if time.time() >= expires or secret != ctx.secret:
        cache.pop(token, None)
        return None
    return tenant_id, user_id, epoch, expires, family


def _access_claims(ctx: AppContext, token: str) -> tuple[str, str, int, float, str | None]:
    """(tenant, user, epoch, expiry, sign-in family) of a verified access token."""
    hit = _cached_claims(ctx, token)
    if hit is not None:
        return hit
    claims = tokens.read_access_token(ctx.secret, token)
    fam = claims.get("fam")
    family = fam if isinstance(fam, str) else None
    tenant_id, user_id, epoch = claims["tid"], claims["sub"], int(claims.get("ep", 0))
    cache = ctx.access_token_cache
    if len(cache) >= _JWT_CACHE_MAX:
        cache.clear()
    cache[token] = (float(claims["exp"]), ctx.secret, tenant_id, user_id, epoch, family)
    return tenant_id, user_id, epoch, float(claims["exp"]), family


def token_subject(ctx: AppContext, token: str) -> str | None:
    """`{tenant}:{user}` of a valid access token, else None; checked once per token (the
    same cache as every request's authentication), so the rate-limit gate pays no more."""
    try:
        tenant_id, user_id, _epoch, _expires, _family = _access_claims(ctx, token)
    except Unauthorized:
        return None
    return f"{tenant_id}:{user_id}"


def _bearer_principal(user: dict | None, epoch: int, expires: float, family: str | None) -> Principal:
    # The expiry travels with the caller so a live sync feed can end when its token does.
    principal = _principal_for_user(user, epoch=epoch, family=family)
    principal.extra["expires_at"] = expires
    return principal


def _principal_for_bearer(ctx: AppContext, token: str) -> Principal:
    if token.startswith("bl_"):
        from ..apikeys.service import principal_for_key  # noqa: PLC0415

        return principal_for_key(ctx, token)
    tenant_id, user_id, epoch, expires, family = _access_claims(ctx, token)
    return _bearer_principal(_account(ctx, tenant_id, user_id), epoch, expires, family)


def _account(ctx: AppContext, tenant_id: str, user_id: str) -> dict[str, Any] | None:
    """The caller's user document as authentication reads it on every request: from memory
    when the store tells of every write (`ctx.user_docs`, dropped the moment the account is
    written, so a deactivation or a sign-out ends access at once). Read-only: it is shared."""
    cache = ctx.user_docs
    if cache is None:
        return users.get_user(ctx.system, tenant_id, user_id)
    return cache.get(
        SYSTEM_DB,
        users.user_doc_id(tenant_id, user_id),
        lambda: users.get_user(ctx.system, tenant_id, user_id),
    )


def _basic_hit(ctx: AppContext, username: str, password: str) -> Principal | None:
    """The caller when these Basic credentials were verified recently, else None."""
    key = hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()
    with _basic_lock:
        hit = _basic_cache.get(key)
    if hit and hit[0] > time.monotonic():
        user = _account(ctx, hit[1], hit[2])
        if user is not None and user["password_hash"] == hit[3]:
            return _principal_for_user(user)
    return None


def _principal_for_basic(ctx: AppContext, username: str, password: str, address: str | None) -> Principal:
    if username == "apikey":
        from ..apikeys.service import principal_for_key  # noqa: PLC0415

        return principal_for_key(ctx, password)
    # CouchDB clients send Basic credentials on every request; Argon2 on each would make a
    # replication crawl, so a successful check is remembered briefly (keyed by a hash of the
    # credentials and invalidated when the stored password hash changes).
    cached = _basic_hit(ctx, username, password)
    if cached is not None:
        return cached
    key = hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()
    now = time.monotonic()
    limiter = throttle(ctx)
    email_n = users.normalize_email(username)
    limiter.check(email_n, address)
    user = users.find_by_email(ctx.system, email_n)
    if user is None or not verify_password(user["password_hash"], password):
        if user is None:
            burn_verify_time(password)
        failed_attempt(ctx, user, email_n, address, "sign_in_locked")
        raise Unauthorized("The e-mail or password is wrong.")
    limiter.success(email_n, address)
    with _basic_lock:
        if len(_basic_cache) > 10_000:
            _basic_cache.clear()
        _basic_cache[key] = (now + _BASIC_TTL, user["tenant_id"], user["user_id"], user["password_hash"])
    return _principal_for_user(user)


def cached_principal(ctx: AppContext, authorization: str | None) -> Principal | None:
    """The caller, when these credentials were verified before and that still holds.

    None when the full check (`principal_from_authorization`) is needed: first use of a
    token, API keys, unknown schemes. Never hashes a password or checks a signature, so
    the sync endpoints may call it on the event loop; it reads the user document as the
    full check does, and raises the same `Unauthorized` for a deactivated user or a
    revoked token epoch.
    """
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value and not value.startswith("bl_"):
        hit = _cached_claims(ctx, value)
        if hit is None:
            return None
        tenant_id, user_id, epoch, expires, family = hit
        return _bearer_principal(_account(ctx, tenant_id, user_id), epoch, expires, family)
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error and UnicodeDecodeError both are
            return None
        username, sep, password = decoded.partition(":")
        if not sep or username == "apikey":
            return None
        return _basic_hit(ctx, username, password)
    return None


def principal_from_authorization(
    ctx: AppContext, authorization: str | None, address: str | None
) -> Principal:
    """Bearer JWT, Bearer API key, or HTTP Basic (e-mail + password, or `apikey` + key)."""
    if not authorization:
        raise Unauthorized(
            "Sign in first: send `Authorization: Bearer <access token>` "
            "(from POST /api/v1/auth/login) or an API key."
        )
    scheme, _, value = authorization.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return _principal_for_bearer(ctx, value)
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error and UnicodeDecodeError both are
            raise Unauthorized("The Basic credentials are not valid base64 of `user:password`.") from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise Unauthorized("The Basic credentials must be `user:password`.")
        return _principal_for_basic(ctx, username, password, address)
    raise Unauthorized("Unsupported Authorization header: use `Bearer <token>` or HTTP Basic.")
