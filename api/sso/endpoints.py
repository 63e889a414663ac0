"""Routes: the tenant's SSO settings, and the sign-in through the team's identity provider."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from sync.errors import NotFound

from ..audit import service as audit
from ..auth.endpoints import public_base
from ..auth.schemas import TokenPair
from ..core.deps import AdminDep, CtxDep, PrincipalDep, client_address
from ..core.openapi import errors
from . import oidc, repository as repo, saml, service
from .schemas import ENTRA_EXAMPLE, GOOGLE_EXAMPLE, SsoDomainStatus, SsoSettingsUpdate

router = APIRouter(prefix="/api/v1", tags=["sso"])


class CodeExchange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=200)


@router.get("/tenant/sso")
def get_settings(who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """The team's single sign-on settings (owners and admins); null when none are set. The
    client secret is never shown, only `client_secret_set`. `redirect_uri` is the address to
    register at the identity provider. `domains` gives each allowed e-mail domain's proof:
    `pending` with the TXT record to publish, `verified` with when, or `taken` by another team."""
    return {"sso": service.settings_view(ctx, who.tenant_id, public_base(ctx, request))}


@router.put(
    "/tenant/sso",
    responses=errors(
        {
            409: "The sign-in name is already used by another team, or an added e-mail domain is already "
            "verified by another team (`domain_taken`)."
        }
    ),
)
def put_settings(
    body: Annotated[
        SsoSettingsUpdate,
        Body(
            openapi_examples={
                "entra": {"summary": "Microsoft Entra ID", "value": ENTRA_EXAMPLE},
                "google": {"summary": "Google Workspace", "value": GOOGLE_EXAMPLE},
            }
        ),
    ],
    who: AdminDep,
    ctx: CtxDep,
    request: Request,
) -> dict:
    """Set the team's single sign-on through OpenID Connect (owners only: admins get 403, since
    the IdP decides who signs in as whom, owners included).

    Register `{public URL}/api/v1/auth/sso/{slug}/callback` as the redirect URI at the IdP.
    Microsoft Entra ID: issuer `https://login.microsoftonline.com/{directory id}/v2.0`, an app
    registration's client id and secret, and the optional claim `email` (Entra marks
    domain-verified addresses with `xms_edov`). Google Workspace: issuer
    `https://accounts.google.com` and an OAuth client of type "Web application".

    Users whose verified e-mail is in `allowed_domains` get an account with `default_role`
    on their first sign-in, once the domain is proven: each domain starts `pending`, and the
    answer's `domains` names the DNS TXT record to publish for it before calling
    `POST /api/v1/tenant/sso/domains/{domain}/verify`. Others must be invited first. With
    `require_sso`, passwords stop working for everyone except the owners in
    `break_glass_emails`.
    """
    saved, changed = service.save_settings(ctx, who, body, public_base(ctx, request))
    audit.record(
        ctx,
        who,
        "sso.settings_changed",
        "tenant",
        who.tenant_id,
        ip=client_address(request),
        details={"changed": changed},
    )
    return {"sso": saved}


@router.post(
    "/tenant/sso/domains/{domain}/verify",
    response_model=SsoDomainStatus,
    responses=errors(
        {
            404: "The domain is not in the team's allowed_domains (or the team has no SSO settings).",
            409: "Another team verified the domain first (`domain_taken`), or it was removed from the "
            "settings during the check.",
            422: "The TXT record is not there (`dns_record_missing`) or holds another value "
            "(`dns_record_mismatch`); `reason` and `details` say what was found and what is expected.",
            503: "DNS gave no answer (timeout, server failure): `dns_unavailable`, nothing changed; "
            "retry after `Retry-After` seconds.",
        }
    ),
)
def verify_domain(domain: str, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Prove an allowed e-mail domain (owners only, like the rest of SSO: admins get 403).

    Publish the TXT record shown for the domain in `GET /api/v1/tenant/sso` (`domains`), e.g.
    `_branchline.contoso.com` with the value `branchline-verification=<token>`, then call this.
    The first team to prove a domain holds it: sign-ins by e-mail at that domain are routed to
    it, and its IdP's users at that domain get accounts just in time. A domain already
    verified by this team answers its status without a new lookup. Removing the domain from
    `allowed_domains` gives it up.
    """
    status, proven_now = service.verify_domain(ctx, who, domain)
    if not proven_now:
        return status
    audit.record(
        ctx,
        who,
        "sso.domain_verified",
        "tenant",
        who.tenant_id,
        ip=client_address(request),
        details={"domain": status["domain"]},
    )
    return status


@router.get(
    "/auth/sso/lookup",
    responses=errors({404: "No team signs in with SSO under that name or e-mail domain."}),
)
def lookup(ctx: CtxDep, q: Annotated[str, Query(min_length=2, max_length=254)]) -> dict:
    """Find a team's SSO sign-in by its sign-in name (slug) or a member's e-mail address."""
    return service.lookup(ctx, q)


@router.get(
    "/auth/sso/{slug}/start",
    status_code=302,
    responses=errors({404: "No team signs in with SSO under that name.", 502: "The IdP is unreachable."}),
)
def start(slug: str, ctx: CtxDep, request: Request, next: str | None = None) -> RedirectResponse:
    """Start a sign-in: redirects to the team's identity provider (authorization code with
    PKCE, a fresh state and nonce), and sets a short-lived cookie binding the sign-in to this
    browser."""
    base = public_base(ctx, request)
    try:
        url, binding = service.start(ctx, slug, base, next)
    except (oidc.OidcRefused, saml.SamlRefused) as exc:
        return _to_signin(str(exc))
    answer = RedirectResponse(url, status_code=302)
    _bind(answer, binding, service.FLOW_SECONDS, base)
    return answer


def _bind(answer: Response, binding: str, seconds: int, base: str) -> None:
    """The cookie binding a sign-in to this browser, from its start to the code exchange."""
    answer.set_cookie(
        service.COOKIE,
        binding,
        max_age=seconds,
        path=service.COOKIE_PATH,
        httponly=True,
        secure=base.startswith("https://"),
        # A SAML IdP POSTs the answer from its own site: a Lax cookie would stay behind.
        # SameSite=None needs Secure, so plain-HTTP installs (tests, a LAN) keep Lax.
        samesite="none" if base.startswith("https://") else "lax",
    )


@router.get("/auth/sso/{slug}/callback", status_code=302)
def callback(slug: str, ctx: CtxDep, request: Request) -> RedirectResponse:
    """Where the identity provider sends the browser back. On success it redirects to the app
    with a one-time code in the URL fragment (never sent to servers or logged), which the app
    trades for the token pair at `POST /api/v1/auth/sso/exchange`; on failure to the sign-in
    page with the reason."""
    params = dict(request.query_params.items())
    binding = request.cookies.get(service.COOKIE)
    try:
        code, next_path = service.callback(ctx, slug, params, binding, client_address(request))
    except service.SsoFailed as exc:
        return _to_signin(str(exc), clear_binding=True)
    return _to_complete(code, next_path, binding or "", public_base(ctx, request))


@router.post("/auth/sso/{slug}/saml/acs", status_code=302)
def saml_acs(
    slug: str,
    ctx: CtxDep,
    request: Request,
    # No length limits here: the body limit (1 MB) bounds them, and a malformed answer is
    # refused with its reason on the sign-in page like any other bad answer.
    saml_response: Annotated[str, Form(alias="SAMLResponse")] = "",
    relay_state: Annotated[str, Form(alias="RelayState")] = "",
) -> RedirectResponse:
    """The SAML assertion consumer service (HTTP-POST binding). The assertion must be signed,
    for this service provider (audience), sent here (recipient and destination), in answer
    to the request this browser started (InResponseTo), within its validity (two minutes of
    clock skew), and never seen before. Redirects like the OIDC callback."""
    form = {"SAMLResponse": saml_response, "RelayState": relay_state}
    binding = request.cookies.get(service.COOKIE)
    try:
        code, next_path = service.saml_acs(ctx, slug, form, binding, client_address(request))
    except service.SsoFailed as exc:
        return _to_signin(str(exc), clear_binding=True)
    return _to_complete(code, next_path, binding or "", public_base(ctx, request))


@router.get(
    "/auth/sso/{slug}/saml/metadata",
    response_class=Response,
    responses={
        200: {"content": {"application/samlmetadata+xml": {}}},
        **errors({404: "No SAML for that name."}),
    },
)
def saml_metadata(slug: str, ctx: CtxDep, request: Request) -> Response:
    """Branchline's SAML service provider metadata for the team (its entity id is this URL),
    to give to the IdP."""
    tenant_id = repo.holder(ctx.system, repo.slug_id(slug))
    cfg = repo.config(ctx.store, tenant_id) if tenant_id else None
    if not cfg or not cfg.get("saml"):
        raise NotFound(f"No team signs in with SAML as {slug!r}.")
    xml = saml.metadata_xml(saml.endpoints(public_base(ctx, request), slug), cfg["saml"]["idp_metadata_xml"])
    return Response(xml, media_type="application/samlmetadata+xml")


def _to_signin(message: str, *, clear_binding: bool = False) -> RedirectResponse:
    answer = RedirectResponse(f"/signin#sso_error={quote(message)}", status_code=302)
    if clear_binding:
        answer.delete_cookie(service.COOKIE, path=service.COOKIE_PATH)
    return answer


def _to_complete(code: str, next_path: str, binding: str, base: str) -> RedirectResponse:
    """To the app with the one-time code. The binding cookie stays (for the code's lifetime):
    the exchange checks it, so a code can only be traded in the browser that signed in, and
    an attacker cannot sign a victim's browser in to the attacker's account (login CSRF)."""
    answer = RedirectResponse(f"/sso/complete#code={quote(code)}&next={quote(next_path)}", status_code=302)
    _bind(answer, binding, service.CODE_SECONDS, base)
    return answer


@router.post(
    "/auth/sso/exchange",
    response_model=TokenPair,
    responses=errors({401: "The code is unknown, used or expired: sign in with SSO again."}),
)
def exchange(body: CodeExchange, ctx: CtxDep, request: Request, response: Response) -> dict:
    """Trade the one-time code from the SSO callback for the usual token pair (works once,
    within a minute, and only in the browser that signed in: the sign-in's cookie must come
    along, as it does with a same-origin fetch)."""
    tokens = service.exchange(ctx, body.code, request.cookies.get(service.COOKIE))
    response.delete_cookie(service.COOKIE, path=service.COOKIE_PATH)
    return tokens


@router.get("/auth/sso/logout-url")
def logout_url(who: PrincipalDep, ctx: CtxDep, request: Request) -> dict:
    """Where to send the browser after signing out to end the session at the identity provider
    too (RP-initiated logout), or null when the team has no SSO or the IdP offers none."""
    return {"url": service.end_session_url(ctx, who.tenant_id, public_base(ctx, request))}
