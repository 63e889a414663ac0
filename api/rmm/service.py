"""RMM connectors' configuration and status, and script runs: asked for, approved, queued
(the worker submits, polls and records them, `worker.py`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sync.access import Principal
from sync.errors import BadRequest, BranchlineError, Conflict, Forbidden, NotFound

from ..core.context import AppContext
from ..core.docs import get_or_none, retry_on_conflict, save
from ..core.sealing import seal, unseal
from ..core.timeutil import iso, now_ms
from ..webhooks.ssrf import Resolver, TargetRefused, resolve_target
from . import repository as repo, rules, script_source
from .connector import RmmConnector
from .datto import Credentials as DattoCredentials, Datto
from .ninjaone import Credentials as NinjaCredentials, NinjaOne

if TYPE_CHECKING:
    import httpx

SEAL_PURPOSE = "branchline rmm secrets v1"
PARAMS_PURPOSE = "branchline rmm run parameters v1"
VENDOR_NAMES = {"ninjaone": "NinjaOne", "datto": "Datto RMM"}
SECRET_FIELD = {"ninjaone": "client_secret", "datto": "api_secret"}
FIELDS = {
    "ninjaone": ("instance_url", "client_id", "runner_script_id", "output_field", "run_as"),
    "datto": ("api_url", "api_key", "component_uid"),
}
COMMON_FIELDS = ("timeout_seconds", "output_limit_bytes")
OPEN_STATUSES = ("awaiting_approval", "pending", "submitting", "running")


def check_system(system: str) -> None:
    if system not in repo.SYSTEMS:
        raise NotFound(f"No RMM connector {system!r}; the connectors are: {', '.join(repo.SYSTEMS)}.")


def public_config(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """The configuration as the API shows it: the secret only said to be set."""
    if doc is None:
        return None
    system = doc["system"]
    out = {k: doc.get(k) for k in (*FIELDS[system], *COMMON_FIELDS)}
    out[f"{SECRET_FIELD[system]}_set"] = bool(doc.get("secret_sealed"))
    out["updated_at"] = doc.get("updated_at")
    out["updated_by"] = doc.get("updated_by")
    return out


def _check_url(ctx: AppContext, name: str, url: str, example: str) -> str:
    try:
        resolve_target(url, allow_private=ctx.settings.webhook_allow_private)
    except TargetRefused as exc:
        raise BadRequest(f"{name} is refused: {exc} It looks like {example}.") from None
    return url.rstrip("/")


def save_config(
    ctx: AppContext, who: Principal, system: str, fields: dict[str, Any], secret: str | None
) -> tuple[dict[str, Any], list[str]]:
    """Store the configuration (`fields` already typed by the route's schema); the secret is
    kept when left out. Answers the public configuration and the names of changed fields."""
    check_system(system)
    url_field, example = (
        ("instance_url", "https://app.ninjarmm.com")
        if system == "ninjaone"
        else ("api_url", "https://merlot-api.centrastage.net")
    )
    fields = {**fields, url_field: _check_url(ctx, url_field, fields[url_field], example)}
    db = repo.ensure_db(ctx.store, who.tenant_id)

    def write() -> tuple[dict[str, Any], list[str]]:
        current = repo.config(db, system)
        if secret is None and not (current or {}).get("secret_sealed"):
            raise BadRequest(
                f"{SECRET_FIELD[system]} is required the first time; afterwards leave it out to keep it."
            )
        doc = dict(current or {"_id": repo.config_id(system), "type": "rmm_config", "system": system})
        doc["schema_version"] = repo.SCHEMA_VERSION
        changed = [k for k in fields if (current or {}).get(k) != fields[k]]
        doc.update(fields)
        if secret is not None:
            doc["secret_sealed"] = seal(ctx.secret, SEAL_PURPOSE, f"{who.tenant_id}:{system}", secret)
            changed.append(SECRET_FIELD[system])
        doc.update(updated_at=iso(), updated_by=who.user_id)
        return save(db, doc), changed

    doc, changed = retry_on_conflict(write, busy="The configuration changed at the same moment; save again.")
    return public_config(doc) or {}, sorted(changed)


def build(
    ctx: AppContext, tenant_id: str, cfg: dict[str, Any], *, client: httpx.Client, resolver: Resolver
) -> RmmConnector:
    """The tenant's connector (the secret unsealed here and nowhere else)."""
    system = cfg["system"]
    secret = unseal(ctx.secret, SEAL_PURPOSE, f"{tenant_id}:{system}", cfg["secret_sealed"])
    allow_private = ctx.settings.webhook_allow_private
    if system == "ninjaone":
        return NinjaOne(
            NinjaCredentials(cfg["instance_url"], cfg["client_id"], secret),
            client,
            runner_script_id=int(cfg["runner_script_id"]),
            output_field=cfg.get("output_field") or "branchlineResult",
            run_as=cfg.get("run_as") or "system",
            allow_private=allow_private,
            resolver=resolver,
        )
    return Datto(
        DattoCredentials(cfg["api_url"], cfg["api_key"], secret),
        client,
        component_uid=cfg["component_uid"],
        allow_private=allow_private,
        resolver=resolver,
    )


def write_status(ctx: AppContext, tenant_id: str, system: str, **fields: Any) -> None:
    db = repo.ensure_db(ctx.store, tenant_id)

    def write() -> None:
        doc = repo.status(db, system)
        doc.update(fields)
        save(db, doc)

    retry_on_conflict(write, busy="rmm: the connector status kept changing", give_up=lambda: None)


def overview(ctx: AppContext, tenant_id: str) -> list[dict[str, Any]]:
    """Each RMM connector's entry of the status dashboard."""
    db = repo.open_db(ctx.store, tenant_id)
    runs = repo.runs(db)
    items = []
    for system in repo.SYSTEMS:
        status = repo.status(db, system)
        mine = [r for r in runs if r.get("system") == system]
        items.append(
            {
                "system": system,
                "name": VENDOR_NAMES[system],
                "configured": repo.config(db, system) is not None,
                "config": public_config(repo.config(db, system)),
                "last_success": status.get("last_success"),
                "last_error": status.get("last_error"),
                "last_check": status.get("last_check"),
                "open_runs": [public_run(r) for r in mine if r.get("status") in OPEN_STATUSES],
                "failed_runs": [
                    public_run(r)
                    for r in mine[-50:]
                    if r.get("result") in ("failed", "in_doubt", "timed_out")
                ],
            }
        )
    return items


class RmmUnreachable(BranchlineError):
    """The RMM refused or failed the connection test; the reason is the connector's."""

    status, error = 502, "bad_gateway"


def test_connection(
    ctx: AppContext, tenant_id: str, system: str, *, client: httpx.Client, resolver: Resolver
) -> dict[str, Any]:
    from ..core.sealing import SealBroken  # noqa: PLC0415
    from .connector import RmmError  # noqa: PLC0415

    check_system(system)
    cfg = repo.config(repo.open_db(ctx.store, tenant_id), system)
    if cfg is None:
        raise Conflict(f"{VENDOR_NAMES[system]} is not configured; save its connection first, then test it.")
    try:
        found = build(ctx, tenant_id, cfg, client=client, resolver=resolver).check()
        outcome: dict[str, Any] = {"at": iso(), "ok": True, "reason": None, **found}
    except (RmmError, SealBroken) as exc:
        outcome = {"at": iso(), "ok": False, "reason": str(exc)}
    extra = (
        {}
        if outcome["ok"]
        else {"last_error": {"at": outcome["at"], "run_id": None, "reason": outcome["reason"]}}
    )
    write_status(ctx, tenant_id, system, last_check=outcome, **extra)
    if not outcome["ok"]:
        raise RmmUnreachable(f"The connection test failed: {outcome['reason']}")
    return {"system": system, **outcome}


# --- runs -------------------------------------------------------------------------------------


def public_run(doc: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "run_id",
        "system",
        "session_id",
        "node_id",
        "script_id",
        "script_version",
        "script_name",
        "risk",
        "parameters",
        "target",
        "status",
        "result",
        "exit_code",
        "output_bytes",
        "output_truncated",
        "requested_by",
        "approval",
        "attempt_count",
        "last_error",
        "created_at",
        "submitted_at",
        "done_at",
        "attachment_id",
        "event_id",
    )
    return {k: doc.get(k) for k in keys}


def configured_system(db: Any, asked: str | None) -> str:
    systems = [s for s in repo.SYSTEMS if repo.config(db, s) is not None]
    if asked is not None:
        check_system(asked)
        if asked not in systems:
            raise Conflict(
                f"{VENDOR_NAMES[asked]} is not configured; an owner or admin sets it up under Integrations."
            )
        return asked
    if not systems:
        raise Conflict(
            "No RMM is configured; an owner or admin connects NinjaOne or Datto RMM under Integrations."
        )
    if len(systems) > 1:
        raise BadRequest(f"Several RMMs are configured; say which with `system` ({', '.join(systems)}).")
    return systems[0]


def new_run(
    ctx: AppContext,
    who: Principal,
    *,
    run_id: str,
    system: str,
    cfg: dict[str, Any],
    sid: str,
    node_id: str,
    script: dict[str, Any],
    values: dict[str, Any],
    target: dict[str, Any],
) -> dict[str, Any]:
    risk = str(script["risk"]) if script.get("risk") in rules.RISKS else "high"
    approval = rules.needs_approval(risk, who.role)
    now = now_ms()
    return {
        "_id": repo.run_id(run_id),
        "type": "rmm_run",
        "schema_version": repo.SCHEMA_VERSION,
        "run_id": run_id,
        "system": system,
        "session_id": sid,
        "node_id": node_id,
        "script_id": script["id"],
        "script_version": script["version"],
        "script_name": str(script.get("name") or script["id"]),
        "risk": risk,
        # Secret values are sealed for the one submit that needs them, never shown or kept open.
        "parameters": rules.public_parameters(values, script_source.secret_names(script)),
        "values_sealed": seal(ctx.secret, PARAMS_PURPOSE, f"{who.tenant_id}:{run_id}", json.dumps(values)),
        "target": target,
        "timeout_seconds": int(cfg.get("timeout_seconds") or 600),
        "output_limit_bytes": int(cfg.get("output_limit_bytes") or 1_000_000),
        "requested_by": {"id": who.user_id, "role": who.role, "kind": who.kind},
        "approval": {"required": approval, "approved_by": None, "approved_at": None},
        "status": "awaiting_approval" if approval else "pending",
        "result": None,
        "attempt_count": 0,
        "next_attempt_ms": now,
        "claim": None,
        "job_ref": None,
        "submit_started_at": None,
        "last_error": None,
        "attempts": [],
        "created_at": iso(now),
    }


def values_of(ctx: AppContext, tenant_id: str, run: dict[str, Any]) -> dict[str, Any]:
    return json.loads(
        unseal(ctx.secret, PARAMS_PURPOSE, f"{tenant_id}:{run['run_id']}", run["values_sealed"])
    )


def enqueue(ctx: AppContext, tenant_id: str, run: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Store the run; a run with the same id answers instead (a request sent twice)."""
    db = repo.ensure_db(ctx.store, tenant_id)
    try:
        return save(db, dict(run)), True
    except Conflict:
        existing = repo.run(db, run["run_id"])
        if existing is None or existing.get("session_id") != run["session_id"]:
            raise Conflict("This request id belongs to another run; make a new one.") from None
        return existing, False


def get_run(ctx: AppContext, tenant_id: str, run_id: str) -> dict[str, Any]:
    found = repo.run(repo.open_db(ctx.store, tenant_id), run_id)
    if found is None:
        raise NotFound(f"No script run {run_id}.")
    return found


def approve(ctx: AppContext, who: Principal, run_id: str) -> dict[str, Any]:
    db = repo.ensure_db(ctx.store, who.tenant_id)

    def write() -> dict[str, Any]:
        current = get_or_none(db, repo.run_id(run_id))
        if current is None:
            raise NotFound(f"No script run {run_id}.")
        problem = rules.approval_problem(current, who.user_id, who.role)
        if problem is not None:
            kind, reason = problem
            raise (Conflict if kind == "conflict" else Forbidden)(reason)
        current["approval"] = {**current["approval"], "approved_by": who.user_id, "approved_at": iso()}
        current.update(status="pending", next_attempt_ms=now_ms())
        return save(db, current)

    return retry_on_conflict(write, busy="The run changed at the same moment; approve again.")
