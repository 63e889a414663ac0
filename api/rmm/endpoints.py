"""Routes: RMM connectors (owners and admins configure) and script runs (engineers ask, a
second trusted person approves medium and high-risk ones, the worker runs them).

The connectors live under `/api/v1/rmm/` rather than beside the PSA ones under
`/api/v1/integrations/`: `/integrations/{system}/test` and the PSA retry route already take
any system name there, and an RMM's settings, roles and dashboard (runs, not pushes) differ.
`GET /api/v1/rmm` is the RMM half of the integrations dashboard.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from sync.errors import BadRequest, Conflict, Forbidden, NotFound

from ..audit import service as audit
from ..clients import repository as clients_repo
from ..core.context import AppContext
from ..core.deps import AdminDep, CtxDep, PrincipalDep, client_address
from ..core.openapi import errors
from ..sessions import access, service as sessions
from ..sessions.ids import ulid
from ..webhooks import delivery
from ..webhooks.ssrf import system_resolver
from . import repository as repo, rules, script_source, service
from .connector import RmmError
from .schemas import DattoConfig, NinjaOneConfig, ScriptRunCreate

router = APIRouter(prefix="/api/v1", tags=["rmm"])


def _nudge(ctx: AppContext) -> None:
    if ctx.rmm is not None:
        ctx.rmm.nudge()


def _client_and_resolver(ctx: AppContext):
    worker = ctx.rmm
    if worker is not None:
        return worker.client, worker.resolver, False
    return delivery.new_client(ctx.settings.rmm_http_timeout_seconds, 1), system_resolver, True


@router.get("/rmm")
def list_rmm(who: AdminDep, ctx: CtxDep) -> dict:
    """Each RMM connector (NinjaOne, Datto RMM): `configured`, its `config` (the secret only as
    `client_secret_set` / `api_secret_set`), `last_success` and `last_error` (`{at, run_id,
    reason}`), `last_check` (the latest connection test), the `open_runs` (waiting for
    approval, queued, running) and recent `failed_runs` (failed, timed out, in doubt)."""
    return {"items": service.overview(ctx, who.tenant_id), "next_cursor": None}


def _save(system: str, body, secret: str | None, who, ctx: AppContext, request: Request) -> dict:
    fields = body.model_dump(exclude={service.SECRET_FIELD[system]})
    public, changed = service.save_config(ctx, who, system, fields, secret)
    audit.record(
        ctx,
        who,
        "rmm.configured",
        "integration",
        system,
        ip=client_address(request),
        details={"changed": changed},
    )
    return public


@router.put("/rmm/ninjaone", responses=errors({400: "A field is missing, or the instance URL is refused."}))
def put_ninjaone(body: NinjaOneConfig, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Configure NinjaOne: an API Services (machine-to-machine) client app with the client
    credentials grant and the Monitoring, Management and Control scopes; the id of the
    Branchline runner script added to NinjaOne's library (README) and the device custom field
    it reports into. The secret is encrypted at rest and never answered; leave it out to keep it."""
    return _save("ninjaone", body, body.client_secret, who, ctx, request)


@router.put("/rmm/datto", responses=errors({400: "A field is missing, or the API URL is refused."}))
def put_datto(body: DattoConfig, who: AdminDep, ctx: CtxDep, request: Request) -> dict:
    """Configure Datto RMM: the platform's API URL, an API key and secret key (Setup > Users >
    Generate API Keys, with API access enabled) and the uid of the imported Branchline runner
    component (README). The secret is encrypted at rest and never answered; leave it out to keep it."""
    return _save("datto", body, body.api_secret, who, ctx, request)


@router.post(
    "/rmm/{system}/test",
    responses=errors(
        {409: "The connector is not configured yet.", 502: "The RMM refused or failed the test."}
    ),
)
def test_rmm(system: str, who: AdminDep, ctx: CtxDep) -> dict:
    """Sign in to the RMM with the saved settings and make one cheap call (NinjaOne: the
    organization list; Datto RMM: the account). The outcome becomes the connector's `last_check`."""
    client, resolver, close = _client_and_resolver(ctx)
    try:
        return service.test_connection(ctx, who.tenant_id, system, client=client, resolver=resolver)
    finally:
        if close:
            client.close()


@router.get("/rmm/{system}/devices", responses=errors({502: "The RMM refused or failed the request."}))
def list_devices(
    system: str,
    who: PrincipalDep,
    ctx: CtxDep,
    client_id: str | None = Query(
        default=None, description="Devices of this client context's organization or site."
    ),
    q: str | None = Query(default=None, max_length=100, description="Part of the device name."),
) -> dict:
    """The devices a run may target: `{items: [{id, name, organization, online}]}`. With
    `client_id`, the client context's `ninjaone_organization` (NinjaOne organization id) or
    `datto_site` (Datto site uid) value picks the client's devices."""
    if who.role == "viewer":
        raise Forbidden("Viewers do not run scripts; ask an admin for the engineer role.")
    service.check_system(system)
    cfg = repo.config(repo.open_db(ctx.store, who.tenant_id), system)
    if cfg is None:
        raise Conflict(f"{service.VENDOR_NAMES[system]} is not configured.")
    organization = None
    if client_id:
        found = clients_repo.get_client_or_none(clients_repo.clients_db(ctx, who.tenant_id), client_id)
        if found is None:
            raise BadRequest(f"No client context {client_id!r}.")
        key = "ninjaone_organization" if system == "ninjaone" else "datto_site"
        organization = ((found.get("values") or {}).get(key)) or None
        if organization is None:
            raise BadRequest(f"The client context has no `{key}` value; add it to pick its devices.")
    client, resolver, close = _client_and_resolver(ctx)
    try:
        connector = service.build(ctx, who.tenant_id, cfg, client=client, resolver=resolver)
        devices = connector.devices(str(organization) if organization else None, q)
    except RmmError as exc:
        raise service.RmmUnreachable(str(exc)) from None
    finally:
        if close:
            client.close()
    return {"items": [d.__dict__ for d in devices], "next_cursor": None}


@router.post(
    "/sessions/{session_id}/script-runs",
    status_code=202,
    responses=errors(
        {
            400: "The node, parameters or target are not valid.",
            404: "No such session, or no such published script.",
            409: "No RMM is configured, script_text differs from the server's rendering, or the "
            "session is no longer at the step (`stale_run`).",
        }
    ),
)
def create_run(
    session_id: str, body: ScriptRunCreate, who: PrincipalDep, ctx: CtxDep, request: Request
) -> dict:
    """Run a published script on one device through the tenant's RMM. Engineers run low-risk
    scripts; a medium or high-risk one asked for by an engineer waits (`awaiting_approval`)
    for an author, admin or owner other than the requester (`.../approve`). Answers 202 with
    the run; it is submitted, polled until done (within the connector's timeout) and then
    recorded in the session as a `script_run` event under `node_id`, with the full output as
    an attachment. The same `request_id` sent again answers the same run. With `at_step`, a
    run whose step is over (the session moved on, went back or ended) is refused with 409
    `stale_run`."""
    if who.role == "viewer":
        raise Forbidden("Viewers do not run scripts; ask an admin for the engineer role.")
    loaded = sessions.load(ctx, who, session_id)
    access.require_write(who, loaded.header)
    nodes = loaded.tree.get("nodes")
    if not isinstance(nodes, dict) or body.node_id not in nodes:
        raise BadRequest(f"The session's tree has no node {body.node_id!r}.")
    db = repo.ensure_db(ctx.store, who.tenant_id)
    existing = repo.run(db, body.request_id) if body.request_id else None
    if existing is not None and existing.get("session_id") == loaded.sid:
        return service.public_run(existing)
    if body.at_step is not None:
        stale = rules.stale_problem(loaded.fold(), body.node_id, body.at_step)
        if stale is not None:
            raise Conflict(stale, error="stale_run")
    system = service.configured_system(db, body.system)
    cfg = repo.config(db, system) or {}
    script = script_source.published_script(ctx, who.tenant_id, body.script_id, body.version)
    text = script_source.render(script, body.parameters)
    if body.script_text is not None and body.script_text != text:
        raise Conflict(
            "script_text is not what the server renders for this script version and these parameters; "
            "load the script again and show the engineer the new text."
        )
    run = service.new_run(
        ctx,
        who,
        run_id=body.request_id or ulid(),
        system=system,
        cfg=cfg,
        sid=loaded.sid,
        node_id=body.node_id,
        script=script,
        values=body.parameters,
        target=body.target.model_dump(),
    )
    saved, created = service.enqueue(ctx, who.tenant_id, run)
    if created:
        audit.record(
            ctx,
            who,
            "rmm.run_requested",
            "session",
            loaded.sid,
            ip=client_address(request),
            details={
                "run_id": saved["run_id"],
                "system": system,
                "script_id": saved["script_id"],
                "script_version": saved["script_version"],
                "risk": saved["risk"],
                "device_id": saved["target"]["device_id"],
                "parameters": saved["parameters"],
                "awaiting_approval": saved["status"] == "awaiting_approval",
            },
        )
        _nudge(ctx)
    return service.public_run(saved)


def _run_of_session(ctx: AppContext, who, session_id: str, run_id: str) -> tuple[str, dict]:
    loaded = sessions.load(ctx, who, session_id)
    run = service.get_run(ctx, who.tenant_id, run_id)
    if run["session_id"] != loaded.sid:
        raise NotFound(f"No script run {run_id} in this session.")
    return loaded.sid, run


@router.get("/sessions/{session_id}/script-runs")
def list_runs(session_id: str, who: PrincipalDep, ctx: CtxDep) -> dict:
    """The session's script runs, oldest first, for anyone who may read the session."""
    loaded = sessions.load(ctx, who, session_id)
    runs = [r for r in repo.runs(repo.open_db(ctx.store, who.tenant_id)) if r.get("session_id") == loaded.sid]
    return {"items": [service.public_run(r) for r in runs], "next_cursor": None}


@router.get(
    "/sessions/{session_id}/script-runs/{run_id}", responses=errors({404: "No such run in this session."})
)
def get_run(session_id: str, run_id: str, who: PrincipalDep, ctx: CtxDep) -> dict:
    """One run: `status` (awaiting_approval, pending, submitting, running, done) and, once
    done, `result` (succeeded, failed, timed_out, in_doubt), `exit_code` and the ids of the
    event and attachment it wrote."""
    return service.public_run(_run_of_session(ctx, who, session_id, run_id)[1])


@router.post(
    "/sessions/{session_id}/script-runs/{run_id}/approve",
    status_code=202,
    responses=errors(
        {403: "Not an author, admin or owner, or the requester themself.", 409: "The run is not waiting."}
    ),
)
def approve_run(session_id: str, run_id: str, who: PrincipalDep, ctx: CtxDep, request: Request) -> dict:
    """Approve a medium or high-risk run an engineer asked for: an author, admin or owner
    other than the requester. The run is then queued like any other."""
    sid, run = _run_of_session(ctx, who, session_id, run_id)
    problem = rules.approval_problem(run, who.user_id, who.role)
    if problem is not None:
        audit.record(
            ctx,
            who,
            "rmm.run_approval_refused",
            "session",
            sid,
            ip=client_address(request),
            details={"run_id": run_id, "reason": problem[1]},
        )
    saved = service.approve(ctx, who, run_id)
    audit.record(
        ctx,
        who,
        "rmm.run_approved",
        "session",
        sid,
        ip=client_address(request),
        details={"run_id": run_id, "requested_by": run["requested_by"]["id"], "risk": run["risk"]},
    )
    _nudge(ctx)
    return service.public_run(saved)
