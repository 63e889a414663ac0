"""Routes: register, login, refresh, logout, me."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sync.access import RolePolicy

from ..audit import service as audit
from ..core.deps import CtxDep, PrincipalDep, client_address
from ..core.openapi import errors
from ..ratelimit.deps import RegistrationLimit
from ..tenants import repository as tenants
from ..users import repository as users
from . import service
from .schemas import LoginRequest, RefreshRequest, RegisterRequest, TokenPair

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/auth/register",
    response_model=TokenPair,
    status_code=201,
    dependencies=[RegistrationLimit],
    responses=errors(
        {
            409: "The e-mail already has an account: sign in instead.",
            429: "Too many sign-ups or refused sign-ups from your address: wait `Retry-After` seconds.",
        }
    ),
)
def register(body: RegisterRequest, request: Request, ctx: CtxDep) -> dict:
    """Create a tenant (an MSP) and its owner account, then sign the owner in.

    The tenant gets its `trees`, `sessions` and `clients` databases and, unless
    `starter_library` is false, the starter library of troubleshooting trees. An e-mail
    that already has an account answers 409; such refusals count as failed sign-ins of the
    client's address, so repeated probing answers 429 with Retry-After.
    """
    _tenant, owner = service.create_tenant(
        ctx,
        tenant_name=body.tenant_name,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        starter_library=body.starter_library,
        address=client_address(request),
    )
    audit.record(ctx, owner, "tenant.created", "tenant", owner["tenant_id"], ip=client_address(request))
    return service.token_pair(ctx, owner)


@router.post(
    "/auth/login",
    response_model=TokenPair,
    responses=errors(
        {
            401: "The e-mail or password is wrong.",
            429: "Too many failed attempts: wait `Retry-After` seconds.",
        }
    ),
)
def login(body: LoginRequest, request: Request, ctx: CtxDep) -> dict:
    """Sign in with e-mail and password. Repeated failures are throttled (429 with Retry-After)."""
    return service.login(ctx, body.email, body.password, client_address(request))


@router.post(
    "/auth/refresh",
    response_model=TokenPair,
    responses=errors({401: "The refresh token is malformed, expired or revoked: sign in again."}),
)
def refresh(body: RefreshRequest, request: Request, ctx: CtxDep) -> dict:
    """Trade a refresh token for a new pair. Each refresh token works once: presenting a used
    one again revokes every token of that sign-in. One exception, for an answer lost on the
    way: the same client (same address) presenting it again within
    `BRANCHLINE_REFRESH_RETRY_GRACE_SECONDS` (60) of its use, while the token it was traded
    for is still unused, gets that same refresh token again (and a new access token)."""
    return service.refresh(ctx, body.refresh_token, client_address(request))


@router.post(
    "/auth/logout",
    status_code=204,
    responses=errors({401: "The refresh token is malformed, expired or revoked."}),
)
def logout(body: RefreshRequest, ctx: CtxDep) -> Response:
    """End a sign-in: its refresh token (and every token rotated from it) stops working."""
    service.logout(ctx, body.refresh_token)
    return Response(status_code=204)


@router.get("/me")
def me(principal: PrincipalDep, ctx: CtxDep, request: Request) -> dict:
    """The caller, their tenant and role, and where their sync databases live."""
    tenant = tenants.get_tenant(ctx.system, principal.tenant_id)
    user = users.get_user(ctx.system, principal.tenant_id, principal.user_id)
    root = f"{public_base(ctx, request)}/sync/{principal.tenant_id}/"
    dbs = [
        n
        for n in tenants.list_tenant_databases(ctx.store, principal.tenant_id)
        if n not in RolePolicy.SERVER_ONLY_DATABASES
    ]  # not reachable over sync
    if user:
        # The account's recent lockouts (repeated wrong passwords), so its owner learns of them.
        shown = {**users.public_user(user), "security_events": user.get("security_events", [])}
    else:
        shown = {
            "id": principal.user_id,
            "kind": principal.kind,
            "display_name": principal.extra.get("display_name"),
        }
    return {
        "user": shown,
        "tenant": {"id": tenant["tenant_id"], "name": tenant["name"]},
        "role": principal.role,
        "sync": {"root": root, "databases": {name: root + name for name in dbs}},
    }


def public_base(ctx, request: Request) -> str:
    if ctx.settings.public_url:
        return ctx.settings.public_url
    return str(request.base_url).rstrip("/")
