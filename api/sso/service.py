"""SSO settings, the OIDC sign-in (start, callback, code exchange), just-in-time accounts,
and the `require_sso` rule for passwords."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from sync.access import Principal
from sync.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized

from ..audit import service as audit
from ..auth import service as auth
from ..auth.passwords import hash_password
from ..core import dnsproof
from ..core.context import AppContext
from ..core.docs import retry_on_conflict, save
from ..core.ids import new_id
from ..core.sealing import SealBroken, seal, unseal
from ..core.timeutil import iso
from ..users import repository as users
from ..webhooks.ssrf import TargetRefused, resolve_target
from . import oidc, pinned, repository as repo, saml

SEAL_PURPOSE = "branchline sso secrets v1"
FLOW_SECONDS = 600  # time allowed at the IdP between start and callback
CODE_SECONDS = 60  # time the PWA has to trade the one-time code
COOKIE = "bl_sso"
COOKIE_PATH = "/api/v1/auth/sso/"


class SsoFailed(Exception):
    """A sign-in refused at the callback: `code` for the audit log, the message for the user."""

    def __init__(self, code: str, message: str, tenant_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.tenant_id = tenant_id


def providers(ctx: AppContext) -> oidc.ProviderCache:
    if ctx.sso_providers is None:
        ctx.sso_providers = oidc.ProviderCache()
    return ctx.sso_providers


def http_client(ctx: AppContext) -> httpx.Client:
    """A client for calls to IdPs: each request resolved, checked and pinned (see `pinned`)."""
    return pinned.client(allow_private=ctx.settings.webhook_allow_private)


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- settings --------------------------------------------------------------------------


def public_settings(
    doc: dict[str, Any] | None, base: str, domains: list[dict[str, Any]] | None = None
) -> dict[str, Any] | None:
    """The settings as owners and admins see them: the secret only said to be set, and each
    allowed domain's proof (`domains`, from `domain_statuses`)."""
    if doc is None:
        return None
    out: dict[str, Any] = {
        "slug": doc["slug"],
        "enabled": doc.get("enabled", True),
        "protocol": doc["protocol"],
        "oidc": None,
        "saml": None,
        "allowed_domains": doc["allowed_domains"],
        "domains": domains or [],
        "default_role": doc["default_role"],
        "require_sso": doc["require_sso"],
        "break_glass_emails": doc["break_glass_emails"],
        "start_url": f"{base}/api/v1/auth/sso/{doc['slug']}/start",
        "redirect_uri": redirect_uri(base, doc["slug"]),
        "updated_at": doc.get("updated_at"),
        "updated_by": doc.get("updated_by"),
    }
    if doc.get("oidc"):
        out["oidc"] = {
            "issuer": doc["oidc"]["issuer"],
            "client_id": doc["oidc"]["client_id"],
            "client_secret_set": bool(doc["oidc"].get("client_secret_sealed")),
            "scopes": doc["oidc"]["scopes"],
        }
    if doc.get("saml"):
        sp = saml.endpoints(base, doc["slug"])
        out["saml"] = {
            "idp_entity_id": doc["saml"]["idp_entity_id"],
            "idp_metadata_xml": doc["saml"]["idp_metadata_xml"],
            "idp_metadata_url": doc["saml"].get("idp_metadata_url"),
            "sp_entity_id": sp.entity_id,
            "sp_metadata_url": sp.entity_id,
            "acs_url": sp.acs_url,
        }
    if doc["protocol"] == "saml":
        out["redirect_uri"] = saml.endpoints(base, doc["slug"]).acs_url
    return out


def settings_view(ctx: AppContext, tenant_id: str, base: str) -> dict[str, Any] | None:
    """The team's settings as `public_settings` shows them, None when none are set."""
    doc = repo.config(ctx.store, tenant_id)
    if doc is None:
        return None
    return public_settings(doc, base, domain_statuses(ctx, tenant_id, doc["allowed_domains"]))


# --- proving e-mail domains --------------------------------------------------------------
#
# Listing a domain in allowed_domains claims nothing: it is pending until an owner publishes
# the team's TXT record (api/core/dnsproof.py) and asks for it to be verified. The first team
# to prove a domain holds it (`ssodomain:{domain}` with `verified_at`); only then does it route
# sign-ins by e-mail (`lookup`) and create accounts just in time for its addresses. A team
# that merely lists a domain, even first, gains nothing and blocks nobody.

DOMAIN_PROOF = "branchline sso e-mail domain v1"


def domain_status(ctx: AppContext, tenant_id: str, domain: str) -> dict[str, Any]:
    """`{domain, status, verified_at, record}`: status `verified` (this team proved it),
    `taken` (another team proved it first: verifying will be refused) or `pending`."""
    claim = repo.domain_claim(ctx.system, domain)
    out: dict[str, Any] = {
        "domain": domain,
        "status": "pending",
        "verified_at": None,
        "record": dnsproof.record(ctx.secret, DOMAIN_PROOF, tenant_id, domain),
    }
    if claim is not None and repo.proven(claim):
        if claim["tenant_id"] == tenant_id:
            out.update(status="verified", verified_at=claim["verified_at"])
        else:
            out["status"] = "taken"
    return out


def domain_statuses(ctx: AppContext, tenant_id: str, domains: list[str]) -> list[dict[str, Any]]:
    return [domain_status(ctx, tenant_id, d) for d in domains]


def _taken(domain: str) -> Conflict:
    return Conflict(
        f"The e-mail domain {domain} is already verified by another team, which published its DNS "
        "record first. Remove it from your allowed domains; if your organisation owns it, check who "
        "can publish records in its DNS.",
        error="domain_taken",
    )


def verify_domain(ctx: AppContext, who: Principal, domain: str) -> tuple[dict[str, Any], bool]:
    """Look up the team's TXT record for `domain` and, when it is there, make the team the
    domain's holder; answers the domain's status and whether this call proved it (False when
    it was verified already). Nothing changes when the proof fails."""
    _owner_only(who)
    tenant_id = who.tenant_id
    domain = normalize_domain(domain)
    cfg = repo.config(ctx.store, tenant_id)
    if cfg is None or domain not in cfg["allowed_domains"]:
        raise NotFound(
            f"{domain} is not one of this team's e-mail domains. Add it to allowed_domains "
            "(PUT /api/v1/tenant/sso) first; the answer shows the DNS record to publish."
        )
    claim = repo.domain_claim(ctx.system, domain)
    if repo.proven(claim) and claim is not None:
        if claim["tenant_id"] != tenant_id:
            raise _taken(domain)
        return domain_status(ctx, tenant_id, domain), False
    wanted = dnsproof.record(ctx.secret, DOMAIN_PROOF, tenant_id, domain)
    found = dnsproof.lookup_txt(ctx.settings, wanted["name"])
    dnsproof.check(found, wanted["name"], wanted["value"], domain)

    def hold() -> None:
        held = repo.domain_claim(ctx.system, domain)
        if held is not None and repo.proven(held) and held["tenant_id"] != tenant_id:
            raise _taken(domain)  # another team proved it while we looked
        # A claim without proof (from before proofs existed) is replaced: it proved nothing.
        save(
            ctx.system,
            {
                **(held or {"_id": repo.domain_id(domain)}),
                "type": "sso_claim",
                "tenant_id": tenant_id,
                "verified_at": iso(),
                "verified_by": who.user_id,
            },
        )

    retry_on_conflict(hold, busy=f"{domain} was being verified at the same moment; verify again.")
    now = repo.config(ctx.store, tenant_id) or {}
    if domain not in now.get("allowed_domains", []):
        # Removed from the settings while we looked: its release has already run, so undo ours.
        repo.release(ctx.system, repo.domain_id(domain), tenant_id)
        raise Conflict(f"{domain} was removed from the allowed domains meanwhile; add it again to verify it.")
    return domain_status(ctx, tenant_id, domain), True


def _owner_only(who: Principal) -> None:
    if who.role != "owner":
        # Whoever sets the IdP decides which e-mail each sign-in asserts, owners' included, and
        # can switch passwords off: an admin could otherwise sign in as an owner.
        raise Forbidden(
            "Only an owner can change the team's single sign-on: it decides who can sign in as "
            "whom, owners included. Ask an owner of your team to make this change."
        )


def redirect_uri(base: str, slug: str) -> str:
    return f"{base}/api/v1/auth/sso/{slug}/callback"


def normalize_domain(domain: str) -> str:
    d = domain.strip().lower().lstrip("@").rstrip(".")
    if not d or "." not in d or any(c in d for c in "@/ :") or len(d) > 253 or not dnsproof.is_dns_name(d):
        raise BadRequest(f"{domain!r} is not an e-mail domain; write it like contoso.com.")
    return d


def check_issuer(ctx: AppContext, issuer: str) -> str:
    # Kept as written, trailing slash included: some IdPs (Auth0) name themselves with one.
    issuer = issuer.strip()
    allow_private = ctx.settings.webhook_allow_private
    if not issuer.startswith("https://") and not allow_private:
        raise BadRequest(f"The issuer {issuer} must be an https:// URL, e.g. https://accounts.google.com.")
    try:
        resolve_target(issuer, allow_private=allow_private)
    except TargetRefused as exc:
        raise BadRequest(
            f"The issuer {issuer} is refused: {exc} (an IdP on your own network needs "
            "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE=true)."
        ) from None
    return issuer


MAX_METADATA_BYTES = 200_000


def fetch_metadata(ctx: AppContext, url: str) -> str:
    """The IdP's SAML metadata from its URL (checked like an issuer: https, public address)."""
    url = check_issuer(ctx, url)
    try:
        with http_client(ctx) as client, client.stream("GET", url, timeout=10) as res:
            if res.status_code != 200:
                raise BadRequest(f"The IdP metadata at {url} answered {res.status_code}; check the URL.")
            body = b""
            for chunk in res.iter_bytes():
                body += chunk
                if len(body) > MAX_METADATA_BYTES:
                    raise BadRequest(f"The IdP metadata at {url} is larger than {MAX_METADATA_BYTES} bytes.")
    except httpx.HTTPError as exc:
        raise BadRequest(f"The IdP metadata at {url} cannot be fetched: {exc}.") from None
    return body.decode("utf-8", errors="replace")


def _break_glass(ctx: AppContext, tenant_id: str, emails: list[str], require_sso: bool) -> list[str]:
    out = []
    for email in emails:
        user = users.find_by_email(ctx.system, email)
        if (
            user is None
            or user["tenant_id"] != tenant_id
            or user["role"] != "owner"
            or not user.get("active")
        ):
            raise BadRequest(
                f"{email} is not an active owner of this team; break-glass accounts must be owners."
            )
        out.append(user["email"])
    if require_sso and not out:
        raise BadRequest(
            "require_sso needs at least one break-glass owner in break_glass_emails, who can still sign "
            "in with a password if the identity provider fails."
        )
    return sorted(set(out))


def save_settings(ctx: AppContext, who: Principal, body: Any, base: str) -> tuple[dict[str, Any], list[str]]:
    """Store the settings; answers the public view and the names of the fields that changed."""
    _owner_only(who)
    tenant_id = who.tenant_id
    if body.protocol == "oidc" and body.oidc is None:
        raise BadRequest("protocol oidc needs the oidc settings: issuer, client_id and client_secret.")
    if body.oidc is not None:
        issuer = check_issuer(ctx, body.oidc.issuer)
        if "openid" not in body.oidc.scopes:
            raise BadRequest("scopes must include openid (and email, for the e-mail address).")
    if body.protocol == "saml" and body.saml is None:
        raise BadRequest(
            "protocol saml needs the IdP's metadata: saml.idp_metadata_xml or saml.idp_metadata_url."
        )
    saml_doc = None
    if body.saml is not None:
        xml, url = body.saml.idp_metadata_xml, body.saml.idp_metadata_url
        if (xml is None) == (url is None):
            raise BadRequest(
                "Give the IdP's metadata either as saml.idp_metadata_xml or as saml.idp_metadata_url."
            )
        xml = fetch_metadata(ctx, url) if url is not None else xml or ""
        try:
            saml_doc = {
                "idp_metadata_xml": xml,
                "idp_metadata_url": url,
                "idp_entity_id": saml.idp_entity_id(xml),
            }
            saml.client(saml.endpoints(base, body.slug), xml)
        except saml.SamlRefused as exc:
            raise BadRequest(str(exc)) from None
    domains = sorted({normalize_domain(d) for d in body.allowed_domains})
    glass = _break_glass(ctx, tenant_id, body.break_glass_emails, body.require_sso)
    db = repo.config_db(ctx.store, tenant_id)
    # A domain another team has proven cannot be added (one listed earlier stays, shown as
    # taken, so the rest of the settings can still be saved). Then the slug's claim: taken
    # by another team, it refuses the whole save.
    listed = set((repo.config(ctx.store, tenant_id) or {}).get("allowed_domains", []))
    for d in domains:
        if d not in listed and repo.verified_holder(ctx.system, d) not in (None, tenant_id):
            raise _taken(d)
    repo.claim(ctx.system, repo.slug_id(body.slug), tenant_id, f"The sign-in name {body.slug!r}")

    def write() -> tuple[dict[str, Any], list[str]]:
        current = repo.config(ctx.store, tenant_id)
        old = current or {}
        oidc_doc = None
        if body.oidc is not None:
            before = old.get("oidc") or {}
            sealed = before.get("client_secret_sealed")
            # The secret is kept only for the IdP and client it was entered for: otherwise whoever
            # edits the settings could send the real secret to a token endpoint of their own.
            moved = before and (before.get("issuer"), before.get("client_id")) != (
                issuer,
                body.oidc.client_id,
            )
            if moved and body.oidc.client_secret is None:
                raise BadRequest(
                    "The issuer or client_id changed, so the stored client secret no longer applies: "
                    "enter the client secret of the new client in oidc.client_secret."
                )
            if body.oidc.client_secret is not None:
                sealed = seal(ctx.secret, SEAL_PURPOSE, tenant_id, body.oidc.client_secret)
            if not sealed:
                raise BadRequest(
                    "oidc.client_secret is required the first time; afterwards leave it out to keep it."
                )
            oidc_doc = {
                "issuer": issuer,
                "client_id": body.oidc.client_id,
                "scopes": list(dict.fromkeys(body.oidc.scopes)),
                "client_secret_sealed": sealed,
            }
        new = {
            "slug": body.slug,
            "enabled": body.enabled,
            "protocol": body.protocol,
            "oidc": oidc_doc,
            "saml": saml_doc,
            "allowed_domains": domains,
            "default_role": body.default_role,
            "require_sso": body.require_sso,
            "break_glass_emails": glass,
        }
        changed = sorted(k for k in new if old.get(k) != new[k])
        if body.oidc is not None and body.oidc.client_secret is not None:
            changed = sorted({*changed, "client_secret"})
        doc = {
            **(current or {"_id": repo.CONFIG_ID, "type": "sso_config"}),
            **new,
            "schema_version": repo.SCHEMA_VERSION,
            "updated_at": iso(),
            "updated_by": who.user_id,
        }
        saved = save(db, doc)
        if old.get("slug") and old["slug"] != body.slug:
            repo.release(ctx.system, repo.slug_id(old["slug"]), tenant_id)
        for d in set(old.get("allowed_domains", [])) - set(domains):
            repo.release(ctx.system, repo.domain_id(d), tenant_id)
        return saved, changed

    before = repo.config(ctx.store, tenant_id) or {}
    doc, changed = retry_on_conflict(write, busy="The SSO settings changed at the same moment; save again.")
    if _requires_sso(doc) and not _requires_sso(before):
        _end_sessions(ctx, tenant_id, glass)
    statuses = domain_statuses(ctx, tenant_id, doc["allowed_domains"])
    return public_settings(doc, base, statuses) or {}, changed


def _requires_sso(cfg: dict[str, Any]) -> bool:
    return bool(cfg.get("require_sso")) and cfg.get("enabled", True)


def _end_sessions(ctx: AppContext, tenant_id: str, break_glass: list[str]) -> None:
    """Switching require_sso on ends the sessions of everyone but the break-glass owners, so
    sign-ins made with a password stop at once. Tokens do not record how they were got, so
    sessions made through SSO end too: those users simply sign in with SSO again."""
    for user in users.list_users(ctx.system, tenant_id):
        if not user.get("active") or (user["email"] in break_glass and user["role"] == "owner"):
            continue

        def bump(user_id: str = user["user_id"]) -> None:
            fresh = users.get_user(ctx.system, tenant_id, user_id)
            if fresh is not None:
                users.update_user(ctx.system, auth.bump_token_epoch(ctx, fresh))

        retry_on_conflict(bump, busy="A member changed at the same moment; save the SSO settings again.")


def lookup(ctx: AppContext, query: str) -> dict[str, Any]:
    """The sign-in name for a slug or an e-mail address (by its domain, once a team has
    proven it: a domain only listed in some team's settings leads nowhere)."""
    q = query.strip().lower()
    domain = q.rsplit("@", 1)[1] if "@" in q else None
    tenant_id = (
        repo.verified_holder(ctx.system, domain) if domain else repo.holder(ctx.system, repo.slug_id(q))
    )
    cfg = repo.config(ctx.store, tenant_id) if tenant_id else None
    if cfg is not None and domain is not None and domain not in cfg["allowed_domains"]:
        cfg = None
    if cfg is None or not cfg.get("enabled", True):
        raise NotFound(
            f"No team signs in with SSO as {query.strip()!r}. Check the spelling, or ask your admin "
            "for your team's sign-in name."
        )
    return {"slug": cfg["slug"], "start_url": f"/api/v1/auth/sso/{cfg['slug']}/start"}


def _enabled_config(ctx: AppContext, slug: str) -> tuple[str, dict[str, Any]]:
    tenant_id = repo.holder(ctx.system, repo.slug_id(slug))
    cfg = repo.config(ctx.store, tenant_id) if tenant_id else None
    if tenant_id is None or cfg is None or cfg["slug"] != slug or not cfg.get("enabled", True):
        raise NotFound(f"No team signs in with SSO as {slug!r}. Ask your admin for your team's sign-in name.")
    return tenant_id, cfg


# --- the sign-in -----------------------------------------------------------------------


def start(ctx: AppContext, slug: str, base: str, next_path: str | None) -> tuple[str, str]:
    """The IdP's sign-in URL and the value of the browser-binding cookie (OidcRefused or
    SamlRefused when the IdP's discovery document or metadata is unusable).

    The state, nonce and PKCE verifier are kept server-side under the state; the cookie's
    hash is kept with them, so the callback works only in the browser that started it.
    """
    tenant_id, cfg = _enabled_config(ctx, slug)
    state, nonce, binding = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    flow = {
        "_id": repo.flow_id(state),
        "type": "sso_flow",
        "tenant_id": tenant_id,
        "slug": slug,
        "binding_hash": _sha(binding),
        "next": _safe_next(next_path),
        "expires_at": time.time() + FLOW_SECONDS,
    }
    if cfg["protocol"] == "saml":
        location, request_id = saml.start(saml.endpoints(base, slug), cfg["saml"]["idp_metadata_xml"], state)
        save(ctx.system, {**flow, "protocol": "saml", "request_id": request_id, "sp_base": base})
        return location, binding
    with http_client(ctx) as client:
        meta = providers(ctx).metadata(client, cfg["oidc"]["issuer"])
    verifier, challenge = oidc.pkce_pair()
    save(
        ctx.system,
        {
            **flow,
            "protocol": "oidc",
            "nonce": nonce,
            "verifier": verifier,
            "redirect_uri": redirect_uri(base, slug),
        },
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": cfg["oidc"]["client_id"],
            "redirect_uri": redirect_uri(base, slug),
            "scope": " ".join(cfg["oidc"]["scopes"]),
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{meta['authorization_endpoint']}?{query}", binding


def _safe_next(next_path: str | None) -> str:
    """Only this app's own paths: never an open redirect."""
    if next_path and next_path.startswith("/") and not next_path.startswith(("//", "/\\")):
        return next_path
    return "/"


def callback(
    ctx: AppContext, slug: str, params: dict[str, str], binding: str | None, address: str | None
) -> tuple[str, str]:
    """Finish the sign-in; answers the one-time code for the PWA and where to go next.
    Raises SsoFailed (recorded in the tenant's audit log as `auth.sso_failed`)."""
    tenant_id, cfg = _enabled_config(ctx, slug)
    try:
        if cfg["protocol"] != "oidc":
            raise SsoFailed("bad_state", "This team signs in with SAML now. Start the sign-in again.")
        return _callback(ctx, tenant_id, cfg, params, binding, address)
    except SsoFailed as exc:
        _record_failure(ctx, tenant_id, exc, address)
        raise


def _record_failure(ctx: AppContext, tenant_id: str, exc: SsoFailed, address: str | None) -> None:
    audit.record(
        ctx,
        None,
        "auth.sso_failed",
        "tenant",
        tenant_id,
        ip=address,
        tenant_id=tenant_id,
        details={"reason": exc.code, "message": str(exc)},
    )


def _take_flow(
    ctx: AppContext, tenant_id: str, state: str, binding: str | None, protocol: str
) -> dict[str, Any]:
    """The started sign-in `state` names, taken (it works once), checked to be this browser's."""
    flow = repo.take(ctx.system, repo.flow_id(state)) if state else None
    if flow is None or flow["tenant_id"] != tenant_id or flow.get("protocol") != protocol:
        raise SsoFailed(
            "bad_state", "This sign-in link is unknown or was already used. Start the sign-in again."
        )
    if not binding or not secrets.compare_digest(_sha(binding), flow["binding_hash"]):
        raise SsoFailed(
            "bad_state", "This sign-in was started in another browser. Start it again in this one."
        )
    if flow["expires_at"] < time.time():
        raise SsoFailed("flow_expired", "The sign-in took too long at the identity provider. Start it again.")
    return flow


def _callback(
    ctx: AppContext,
    tenant_id: str,
    cfg: dict[str, Any],
    params: dict[str, str],
    binding: str | None,
    address: str | None,
) -> tuple[str, str]:
    flow = _take_flow(ctx, tenant_id, params.get("state") or "", binding, "oidc")
    if params.get("error"):
        detail = params.get("error_description") or params["error"]
        raise SsoFailed("idp_error", f"The identity provider did not sign you in: {detail}.")
    code = params.get("code")
    if not code:
        raise SsoFailed("no_code", "The identity provider sent no sign-in code. Start the sign-in again.")
    issuer = cfg["oidc"]["issuer"]
    try:
        secret = unseal(ctx.secret, SEAL_PURPOSE, tenant_id, cfg["oidc"]["client_secret_sealed"])
    except SealBroken:
        raise SsoFailed(
            "secret_unreadable",
            "The team's SSO client secret cannot be read (the server secret changed); "
            "an admin must enter it again.",
        ) from None
    cache = providers(ctx)
    try:
        with http_client(ctx) as client:
            meta = cache.metadata(client, issuer)
            id_token = oidc.exchange_code(
                client,
                meta,
                code=code,
                redirect_uri=flow["redirect_uri"],
                client_id=cfg["oidc"]["client_id"],
                client_secret=secret,
                verifier=flow["verifier"],
            )
            # The ID token's iss must be the discovery document's issuer exactly (OIDC Discovery
            # section 4.3); that one matched the configured issuer up to a trailing slash.
            check = {"issuer": meta["issuer"], "client_id": cfg["oidc"]["client_id"], "nonce": flow["nonce"]}
            try:
                claims = oidc.verify_id_token(
                    id_token, keys=cache.keys(client, issuer), now=time.time(), **check
                )
            except oidc.OidcRefused as exc:
                if not exc.may_be_rotated:
                    raise
                # The IdP may have rotated its keys since we fetched them: refetch (rate-limited).
                keys = cache.keys(client, issuer, refresh=True)
                claims = oidc.verify_id_token(id_token, keys=keys, now=time.time(), **check)
        email = oidc.verified_email(claims)
    except oidc.OidcRefused as exc:
        raise SsoFailed(exc.code, str(exc)) from None
    return _signed_in(
        ctx, tenant_id, cfg, email, claims.get("name"), address, flow, {"protocol": "oidc", "issuer": issuer}
    )


def _signed_in(
    ctx: AppContext,
    tenant_id: str,
    cfg: dict[str, Any],
    email: str,
    name: Any,
    address: str | None,
    flow: dict[str, Any],
    details: dict[str, Any],
) -> tuple[str, str]:
    """The account for a verified e-mail, recorded, and the one-time code for the PWA."""
    user = just_in_time_user(ctx, tenant_id, cfg, email, name, address)
    audit.record(ctx, user, "auth.sso_signed_in", "user", user["user_id"], ip=address, details=details)
    one_time = secrets.token_urlsafe(32)
    save(
        ctx.system,
        {
            "_id": repo.code_id(_sha(one_time)),
            "type": "sso_code",
            "tenant_id": tenant_id,
            "user_id": user["user_id"],
            # The browser that started the sign-in: only it may trade the code (login CSRF).
            "binding_hash": flow["binding_hash"],
            "expires_at": time.time() + CODE_SECONDS,
        },
    )
    return one_time, flow["next"]


def saml_acs(
    ctx: AppContext, slug: str, form: dict[str, str], binding: str | None, address: str | None
) -> tuple[str, str]:
    """Finish a SAML sign-in from the POSTed SAMLResponse and RelayState; like `callback`."""
    tenant_id, cfg = _enabled_config(ctx, slug)
    try:
        if cfg["protocol"] != "saml":
            raise SsoFailed(
                "bad_state", "This team signs in with OpenID Connect now. Start the sign-in again."
            )
        flow = _take_flow(ctx, tenant_id, form.get("RelayState") or "", binding, "saml")
        sp = saml.endpoints(flow["sp_base"], slug)
        metadata = cfg["saml"]["idp_metadata_xml"]
        try:
            asserted = saml.accept(
                sp, metadata, form.get("SAMLResponse") or "", flow["request_id"], time.time()
            )
        except saml.SamlRefused as exc:
            raise SsoFailed(exc.code, str(exc)) from None
        idp = cfg["saml"]["idp_entity_id"]
        remember_assertion(ctx, tenant_id, idp, asserted)
        details = {"protocol": "saml", "issuer": idp}
        return _signed_in(ctx, tenant_id, cfg, asserted.email, asserted.name, address, flow, details)
    except SsoFailed as exc:
        _record_failure(ctx, tenant_id, exc, address)
        raise


def remember_assertion(ctx: AppContext, tenant_id: str, idp: str, asserted: saml.Asserted) -> None:
    """Accept an assertion id once: it is kept until the assertion expires, and a second
    arrival is refused as a replay."""
    docid = repo.assertion_id(_sha(f"{tenant_id}|{idp}|{asserted.assertion_id}"))
    try:
        save(ctx.system, {"_id": docid, "type": "sso_assertion", "expires_at": asserted.not_on_or_after})
    except Conflict:
        raise SsoFailed("replayed", "This SAML assertion was already used. Sign in again.") from None


def email_domain_allowed(email: str, domains: list[str]) -> bool:
    """True when the e-mail's domain is one of `domains` exactly (no subdomains)."""
    return "@" in email and email.rsplit("@", 1)[1] in domains


def just_in_time_user(
    ctx: AppContext, tenant_id: str, cfg: dict[str, Any], email: str, name: Any, address: str | None
) -> dict[str, Any]:
    """The account for a verified e-mail: an existing one of this team, or a new one with the
    default role when the e-mail's domain is allowed."""
    user = users.find_by_email(ctx.system, email)
    if user is not None:
        if user["tenant_id"] != tenant_id:
            raise SsoFailed(
                "other_team", f"{email} belongs to another Branchline team; it cannot sign in here."
            )
        if not user.get("active", True):
            return _accept_invitation(ctx, user, address)
        return user
    if not email_domain_allowed(email, cfg["allowed_domains"]):
        allowed = ", ".join(cfg["allowed_domains"]) or "none yet"
        raise SsoFailed(
            "domain_not_allowed",
            f"{email} has no account in this team, and its domain is not one that gets one automatically "
            f"({allowed}). Ask an admin to invite you.",
        )
    domain = email.rsplit("@", 1)[1]
    if repo.verified_holder(ctx.system, domain) != tenant_id:
        # The team's own IdP may assert any address: only a domain the team proved it controls
        # (DNS) lets its IdP create accounts for that domain's people.
        raise SsoFailed(
            "domain_not_verified",
            f"{email} has no account in this team, and {domain} gets accounts automatically only "
            "once an owner of the team has verified the domain with its DNS record (Single sign-on "
            "settings). Until then, ask an admin to invite you.",
        )
    user_id = new_id()
    users.claim_email(ctx.system, email, tenant_id, user_id)
    display = name.strip()[:120] if isinstance(name, str) and name.strip() else email.split("@")[0]
    user = users.insert_user(
        ctx.system,
        {
            "_id": users.user_doc_id(tenant_id, user_id),
            "type": "user",
            "schema_version": 1,
            "tenant_id": tenant_id,
            "user_id": user_id,
            "email": email,
            "display_name": display,
            "role": cfg["default_role"],
            # Nobody knows this password: the account signs in through the IdP until an admin
            # resets it.
            "password_hash": hash_password(secrets.token_urlsafe(32)),
            "active": True,
            "token_epoch": 0,
            "created_via": "sso",
            "created_at": iso(),
            "updated_at": iso(),
        },
    )
    audit.record(
        ctx,
        None,
        "user.created",
        "user",
        user_id,
        ip=address,
        tenant_id=tenant_id,
        details={"email": email, "role": cfg["default_role"], "via": "sso"},
    )
    return user


def _accept_invitation(ctx: AppContext, user: dict[str, Any], address: str | None) -> dict[str, Any]:
    """An inactive member signing in: a pending, unexpired invitation is accepted by the IdP's
    verified e-mail (the account becomes active with the role it was invited with); a
    deactivated account, or a cancelled or expired invitation, stays refused."""
    email, status = user["email"], users.member_status(user)
    if status == "invite_expired":
        raise SsoFailed(
            "invite_expired",
            f"The invitation of {email} has expired. Ask an admin of your team to resend it.",
        )
    if status == "invite_cancelled":
        raise SsoFailed(
            "invite_cancelled",
            f"The invitation of {email} was cancelled. Ask an admin of your team to invite you.",
        )
    if status != "invited":
        raise SsoFailed(
            "deactivated", f"The account {email} is deactivated. Ask an admin of your team to reactivate it."
        )
    user.pop("invite")
    # Its password stays one nobody knows, as for an account made on a first SSO sign-in.
    user.pop("password_unset", None)
    user["active"] = True
    user["updated_at"] = iso()
    user = users.update_user(ctx.system, user)
    audit.record(
        ctx,
        user,
        "user.invite_accepted",
        "user",
        user["user_id"],
        ip=address,
        details={"email": email, "role": user["role"], "via": "sso"},
    )
    return user


def exchange(ctx: AppContext, code: str, binding: str | None) -> dict[str, Any]:
    """Trade the one-time code from the callback for the usual token pair (once), in the
    browser whose binding cookie started the sign-in."""
    found = repo.take(ctx.system, repo.code_id(_sha(code))) if code else None
    if found is None or found["expires_at"] < time.time():
        raise Unauthorized("This sign-in code is unknown, used or expired. Sign in with SSO again.")
    if not binding or not secrets.compare_digest(_sha(binding), found.get("binding_hash", "")):
        raise Unauthorized(
            "This sign-in code belongs to a sign-in started in another browser. Sign in with SSO "
            "again in this one."
        )
    user = users.get_user(ctx.system, found["tenant_id"], found["user_id"])
    if user is None or not user.get("active", True):
        raise Forbidden("This account is deactivated. Ask an admin of your team to reactivate it.")
    return auth.token_pair(ctx, user)


def check_password_allowed(ctx: AppContext, user: dict[str, Any]) -> None:
    """Refuse a password sign-in when the team requires SSO and the user is no break-glass owner."""
    cfg = repo.config(ctx.store, user["tenant_id"])
    if not cfg or not cfg.get("enabled", True) or not cfg.get("require_sso"):
        return
    if user["email"] in cfg.get("break_glass_emails", []) and user["role"] == "owner":
        return
    raise Forbidden(
        f'Your team signs in with single sign-on: use "Sign in with SSO" and the sign-in name '
        f"{cfg['slug']!r} instead of a password.",
        error="sso_required",
    )


def end_session_url(ctx: AppContext, tenant_id: str, base: str) -> str | None:
    """Where to send the browser to sign out at the IdP too (RP-initiated logout), if it offers it."""
    cfg = repo.config(ctx.store, tenant_id)
    # SAML teams: single logout is not offered, so signing out stays local.
    if not cfg or not cfg.get("enabled", True) or cfg["protocol"] != "oidc" or not cfg.get("oidc"):
        return None
    try:
        with http_client(ctx) as client:
            meta = providers(ctx).metadata(client, cfg["oidc"]["issuer"])
    except oidc.OidcRefused:
        return None
    url = meta.get("end_session_endpoint")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        return None
    query = urlencode({"client_id": cfg["oidc"]["client_id"], "post_logout_redirect_uri": f"{base}/signin"})
    return f"{url}?{query}"
