"""Routes: PSA connectors (owners and admins configure; engineers push their own sessions)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from sync.errors import BadRequest, Conflict

from ..audit import service as audit
from ..core.context import AppContext
from ..core.deps import AdminDep, CtxDep, PrincipalDep, RunnerDep, client_address
from ..core.openapi import errors
from ..sessions import access, service as sessions
from . import repository as repo, service
from .schemas import AutotaskConfig, ConnectWiseConfig, NewTicketFields, PsaPush

router = APIRouter(prefix="/api/v1", tags=["integrations"])


def _nudge(ctx: AppContext, tenant_id: str) -> None:
    if ctx.psa is not None:
        ctx.psa.nudge(tenant_id)


@router.get("/integrations")
def list_integrations(who: AdminDep, ctx: CtxDep) -> dict:
    """Each PSA connector (ConnectWise and Autotask; either or both may be configured):
    `configured`, its `config` (secrets only as `private_key_set` / `secret_set`),
    `last_success` and `last_error` (`{at, session_id, reason}`), `last_check` (the latest
    connection test), Autotask's discovered `zone`, the `queued` pushes and the `failed` ones
    waiting for a retry."""
    return {"items": service.overview(ctx, who.tenant_id), "next_cursor": None}


@router.get("/integrations/systems")
def configured_systems(who: PrincipalDep, ctx: CtxDep) -> dict:
    """The PSA connectors configured in the caller's tenant, for any member (no settings, no
    secrets): `{items: [{system, name}]}`, so the app offers "Send to Autotask" or "Send to
    ConnectWise" where it can be sent."""
    return {"items": service.configured(ctx, who.tenant_id), "next_cursor": None}


@router.put(
    "/integrations/connectwise",
    responses=errors({400: "A field is missing, or the site URL is refused (loopback, private...)."}),
)
def put_connectwise(body: ConnectWiseConfig, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Configure ConnectWise PSA: reached at `{site_url}/v4_6_release/apis/3.0/` with Basic
    `{company_id}+{public_key}:{private_key}` and the `clientId` header. The private key is
    encrypted at rest and never answered; leave it out to keep the stored one. `auto_push`
    pushes every session completed from now on, offline ones when they sync."""
    public, changed = service.save_config(ctx, who, "connectwise", body.model_dump())
    audit.record(
        ctx,
        who,
        "integration.configured",
        "integration",
        "connectwise",
        ip=client_address(request),
        details={"changed": sorted(changed)},
    )
    _nudge(ctx, who.tenant_id)
    return public


@router.put(
    "/integrations/autotask",
    responses=errors({400: "A field is missing or not a valid Autotask id."}),
)
def put_autotask(body: AutotaskConfig, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Configure Autotask PSA: the API-only user's `api_user` (UserName header), `secret`
    (Secret header; encrypted at rest and never answered, leave it out to keep the stored
    one) and `integration_code` (ApiIntegrationcode header). The zone is discovered from the
    API user (and found again if Autotask moves the database); `company`, `queue_id`,
    `ticket_status`, `priority` and `due_hours` fill what a new ticket requires; time entries
    go to the resource with the engineer's e-mail (else `resource_id`) with `role_id` or that
    resource's default service desk role. `auto_push` pushes every session completed from now
    on, offline ones when they sync."""
    public, changed = service.save_config(ctx, who, "autotask", body.model_dump())
    audit.record(
        ctx,
        who,
        "integration.configured",
        "integration",
        "autotask",
        ip=client_address(request),
        details={"changed": sorted(changed)},
    )
    _nudge(ctx, who.tenant_id)
    return public


@router.post(
    "/integrations/{system}/test",
    responses=errors(
        {
            409: "The connector is not configured yet.",
            502: "The PSA refused or failed the test; the reason says what to fix.",
        }
    ),
)
def test_connection(system: str, who: AdminDep, ctx: CtxDep) -> dict:
    """Check the saved connection now: for Autotask a fresh zone discovery and a call to
    `ThresholdInformation` with the API user; for ConnectWise a call to `system/info`.
    Answers `{system, ok: true, at, ...}` (Autotask: the `zone`); a failure answers 502 with
    the PSA's reason and becomes the connector's last error."""
    return service.test_connection(ctx, who.tenant_id, system)


@router.get(
    "/integrations/{system}/tickets/{ticket}",
    responses=errors(
        {
            400: "Not a ticket number of that PSA.",
            403: "Viewers do not run sessions.",
            404: "The PSA has no such ticket.",
            409: "The connector is not configured.",
            502: "The PSA refused or failed the call; the reason says what to fix.",
        }
    ),
)
def lookup_ticket(system: str, ticket: str, who: RunnerDep, ctx: CtxDep) -> dict:
    """A ticket's `summary`, `status` and `url`, read from the PSA now, for members who run
    sessions (not viewers): the page a PSA opens on a ticket (`/start?ticket=...`) suggests a
    tree from the summary when the link carries only the number. `ticket` as the PSA shows it:
    ConnectWise `48213` or `#48213`, Autotask `T20261203.0042`."""
    return service.lookup_ticket(ctx, who, system, ticket)


@router.post(
    "/sessions/{session_id}/psa",
    status_code=202,
    responses=errors(
        {409: "The connector is not configured, the session is in progress, or it was pushed already."}
    ),
)
def push_session(session_id: str, body: PsaPush, who: PrincipalDep, ctx: CtxDep, request: Request) -> dict:
    """Queue the session for its PSA: a ticket (created, or the number given), the export as a
    ticket note (text or Markdown, internal or discussion, by the connector's settings) and a
    time entry from the session's duration. Answers 202 with the push; it is sent in the
    background with retries, and the session header then carries `psa: {system, ticket_id,
    ticket_url, pushed_at, summary, status}`. A session is pushed once."""
    loaded = sessions.load(ctx, who, session_id)
    access.require_write(who, loaded.header)
    if loaded.fold()["status"] == "in_progress":
        raise Conflict(
            "The session is still in progress: finish it first. A session goes to the PSA once, "
            "with its whole record."
        )
    db = repo.open_db(ctx.store, who.tenant_id)
    cfg = repo.config(db, body.system)
    if cfg is None:
        raise Conflict(f"{body.system} is not configured; an owner or admin sets it up under Integrations.")
    create = body.create_ticket
    attach = body.ticket_id is not None or body.ticket_number is not None
    if create is not None and attach and create is not False:
        raise BadRequest("Give create_ticket or a ticket (ticket_id or ticket_number), not both.")
    if body.ticket_id is not None and body.ticket_number is not None:
        raise BadRequest("Give ticket_id or ticket_number, not both.")
    new_ticket: dict[str, str] | None = None
    if isinstance(create, NewTicketFields):
        new_ticket = create.model_dump(exclude_none=True)
    elif create is True:
        new_ticket = {}
    time_entry = bool(cfg.get("time_entry", True)) if body.time_entry is None else body.time_entry
    push = service.new_push(
        body.system,
        loaded.sid,
        {"type": who.kind, "id": who.user_id},
        create_ticket=new_ticket,
        ticket_id=body.ticket_id,
        ticket_number=body.ticket_number,
        time_entry=time_entry,
    )
    saved, queued = service.enqueue(ctx, who.tenant_id, push)
    if queued:
        audit.record(
            ctx,
            who,
            "psa.push_requested",
            "session",
            loaded.sid,
            ip=client_address(request),
            details={
                "system": body.system,
                "ticket_id": body.ticket_id,
                "create_ticket": new_ticket is not None,
            },
        )
    _nudge(ctx, who.tenant_id)
    return service.public_push(saved)


@router.post("/integrations/{system}/pushes/{session_id}/retry", status_code=202)
def retry_push(system: str, session_id: str, who: AdminDep, ctx: CtxDep) -> dict:
    """Send a failed or waiting push again now (one attempt); its result shows in `/integrations`."""
    out = service.retry(ctx, who.tenant_id, system, session_id)
    _nudge(ctx, who.tenant_id)
    return out
