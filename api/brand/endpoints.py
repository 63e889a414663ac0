"""Routes: the tenant's brand (white-label): settings, logo, and the public brand of a
custom domain for its sign-in page and manifest."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from sync.errors import BadRequest, Forbidden, NotFound

from ..audit import service as audit
from ..core.context import AppContext
from ..core.deps import AdminDep, CtxDep, PrincipalDep, client_address
from ..core.openapi import errors
from . import service

router = APIRouter(prefix="/api/v1", tags=["tenant"])


class BrandUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80, description="Shown in the app, exports and e-mails.")
    primary_color: str = Field(description="Hex, e.g. #1d4ed8; white or dark text on it must reach 4.5:1.")
    accent_color: str | None = Field(default=None, description="Hex; the same contrast rule.")
    custom_domain: str | None = Field(default=None, max_length=253, description="e.g. help.example-msp.com")


def _brand(ctx: AppContext, tenant_id: str) -> dict:
    """The brand as the tenant's own routes answer it: with the TXT record that proves its
    custom domain while that is not verified (`custom_domain_record`, else null)."""
    brand = service.get_brand(ctx.system, tenant_id)
    domain = brand["custom_domain"]
    pending = domain and brand["custom_domain_status"] == "pending"
    brand["custom_domain_record"] = service.domain_record(ctx.secret, tenant_id, domain) if pending else None
    return brand


@router.get("/tenant/brand")
def get_brand(who: PrincipalDep, ctx: CtxDep) -> dict:
    """The tenant's brand (any member): `name`, `primary_color` and `on_primary` (the text
    colour on it), `accent_color`, `custom_domain`, `custom_domain_verified`,
    `custom_domain_status` (`pending`, `verified`, or `taken`: another workspace proved it
    first; naming a domain holds nothing until it is proven), while pending
    `custom_domain_record` (the DNS TXT record that proves it: `{type, name, value}`),
    and `logo` (`content_type`, `sha256`, `data_url`) or null."""
    return _brand(ctx, who.tenant_id)


@router.post(
    "/tenant/brand/domain/verify",
    responses=errors(
        {
            403: "Only owners verify the custom domain.",
            404: "The workspace has no custom domain.",
            409: "The custom domain is no longer held by this workspace.",
            422: "The TXT record is not there (`dns_record_missing`) or holds another value "
            "(`dns_record_mismatch`); `reason` and `details` say what was found and what is expected.",
            503: "DNS gave no answer (timeout, server failure): `dns_unavailable`, nothing changed; "
            "retry after `Retry-After` seconds.",
        }
    ),
)
def verify_custom_domain(who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Verify the custom domain by DNS (owners), instead of asking the operator to run
    `branchline domain verify`: publish `custom_domain_record` (a TXT record at
    `_branchline.{custom domain}` holding `branchline-verification=<token>`), then call this.
    Answers the brand; a domain verified already answers it without a new lookup. The
    operator must still route the name to Branchline with a certificate.

    Owners only, though admins set the brand: e-mailed invitation and password reset links
    go to the verified domain, so whoever verifies it decides where every account's sign-in
    links lead, owners' included, as for single sign-on's e-mail domains."""
    if who.role != "owner":
        raise Forbidden(
            "Only an owner can verify the custom domain: e-mailed invitation and password reset "
            "links go to it. Ask an owner of your team to verify it (the record stays the same)."
        )
    if service.prove_domain(ctx.system, ctx.settings, ctx.secret, who.tenant_id, who.user_id):
        domain = service.get_brand(ctx.system, who.tenant_id)["custom_domain"]
        audit.record(
            ctx,
            who,
            "brand.domain_verified",
            "tenant",
            who.tenant_id,
            ip=client_address(request),
            details={"domain": domain, "via": "dns"},
        )
    return _brand(ctx, who.tenant_id)


@router.put("/tenant/brand", responses=errors({409: "The custom domain belongs to another workspace."}))
def put_brand(body: BrandUpdate, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Set the brand (owners and admins). A colour on which neither white nor dark text
    reaches the WCAG 2.x ratio of 4.5:1 is refused with the ratio and a nearby colour that
    passes (`details.suggestion`)."""
    brand = {
        "name": body.name.strip(),
        "primary_color": service.check_color("primary_color", body.primary_color),
        "accent_color": service.check_color("accent_color", body.accent_color),
        "custom_domain": service.check_domain(body.custom_domain),
    }
    if not brand["name"]:
        raise BadRequest("name is blank; give the name your engineers and customers know you by.")
    before = service.put_brand(ctx.system, who.tenant_id, brand)
    changed = sorted(k for k in brand if brand[k] != before.get(k))
    audit.record(
        ctx,
        who,
        "brand.changed",
        "tenant",
        who.tenant_id,
        ip=client_address(request),
        details={"changed": changed},
    )
    return _brand(ctx, who.tenant_id)


_LOGO_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}} for kind in ("image/png", "image/jpeg")
        },
    }
}


@router.put(
    "/tenant/brand/logo",
    openapi_extra=_LOGO_BODY,
    responses=errors(
        {
            400: "Not a readable image, or larger than 1024 px a side.",
            413: "Larger than 256 KB.",
            415: "Not PNG or JPEG (read from the bytes).",
        }
    ),
)
async def put_logo(who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Upload the logo as the raw request body (owners and admins): PNG or JPEG, at most
    256 KB and 1024 px a side, checked by its content."""
    data = await request.body()
    doc = service.put_logo(ctx.system, who.tenant_id, data, who.user_id)
    audit.record(
        ctx,
        who,
        "brand.changed",
        "tenant",
        who.tenant_id,
        ip=client_address(request),
        details={"changed": ["logo"], "sha256": doc["sha256"]},
    )
    return _brand(ctx, who.tenant_id)


def _host_tenant(ctx, request: Request) -> str:
    tenant_id = service.tenant_for_domain(ctx.system, request.headers.get("host", ""))
    if tenant_id is None:
        raise NotFound(
            "This address is not a workspace's verified custom domain: it shows the default brand."
        )
    return tenant_id


@router.get("/brand", responses={204: {"description": "Not a verified custom domain: the default brand."}})
def public_brand(ctx: CtxDep, request: Request) -> Response:
    """The brand of the workspace whose verified custom domain this request came to (no
    sign-in needed: the sign-in page shows it): `name`, `primary_color`, `on_primary`,
    `logo`. 204 on any other host (the app then shows its own brand)."""
    tenant_id = service.tenant_for_domain(ctx.system, request.headers.get("host", ""))
    if tenant_id is None:
        return Response(status_code=204)
    return JSONResponse(service.public_brand(ctx.system, tenant_id))


@router.get("/brand/icon-{size}.png", include_in_schema=False)
def public_icon(size: int, ctx: CtxDep, request: Request) -> Response:
    """The home-screen icon (192 or 512 px) of a custom domain's workspace, from its logo."""
    data = service.icon(ctx.system, _host_tenant(ctx, request), size)
    if data is None:
        raise NotFound("No such icon: the workspace has no logo, or the size is not 192 or 512.")
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-cache"})
