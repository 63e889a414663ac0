"""PSA connectors' configuration, status and push queue (the worker sends, `worker.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sync.access import Principal
from sync.errors import BadRequest, BranchlineError, Conflict, NotFound
from sync.naming import physical_name
from sync.store import Database

from ..core.context import AppContext
from ..core.docs import get_or_none, retry_on_conflict, save
from ..core.sealing import seal
from ..core.timeutil import iso, now_ms
from ..webhooks.ssrf import TargetRefused, resolve_target
from . import repository as repo
from .connector import Connector

SEAL_PURPOSE = "branchline psa secrets v1"
CW_FIELDS = (
    "site_url",
    "company_id",
    "public_key",
    "client_id",
    "board",
    "status",
    "member",
    "work_type",
    "company",
    "note_type",
    "note_format",
    "time_entry",
    "auto_push",
)
AT_FIELDS = (
    "api_user",
    "integration_code",
    "company",
    "queue_id",
    "ticket_status",
    "priority",
    "due_hours",
    "resource_id",
    "role_id",
    "note_type_id",
    "note_publish",
    "note_format",
    "time_entry",
    "auto_push",
)
CONFIG_FIELDS = {"connectwise": CW_FIELDS, "autotask": AT_FIELDS}
# The one write-only field of each connector; stored sealed as `{name}_sealed`.
SECRET_FIELD = {"connectwise": "private_key", "autotask": "secret"}
WHERE = {
    "connectwise": "copy it from ConnectWise (System > Members > API Members)",
    "autotask": "copy it from Autotask (Admin > Resources/Users, the API-only user)",
}
QUEUED = ("pending", "sending")


def seal_binding(tenant_id: str, system: str) -> str:
    return f"{tenant_id}:{system}"


def check_system(system: str) -> None:
    if system not in repo.SYSTEMS:
        raise NotFound(f"No PSA connector {system!r}; the connectors are: {', '.join(repo.SYSTEMS)}.")


def public_config(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """The configuration as the API shows it: every field but the secret, which is only
    said to be set (`private_key_set`, `secret_set`)."""
    if doc is None:
        return None
    system = doc.get("system", "connectwise")
    out = {k: doc.get(k) for k in CONFIG_FIELDS[system]}
    secret = SECRET_FIELD[system]
    out[f"{secret}_set"] = bool(doc.get(f"{secret}_sealed"))
    out["updated_at"] = doc.get("updated_at")
    out["updated_by"] = doc.get("updated_by")
    return out


def public_push(doc: dict[str, Any]) -> dict[str, Any]:
    steps = doc.get("steps") or {}
    next_ms = doc.get("next_attempt_ms") if doc.get("status") == "pending" else None
    return {
        "system": doc["system"],
        "session_id": doc["session_id"],
        "status": doc["status"],
        "ticket_id": (steps.get("ticket") or {}).get("ticket_id") or doc.get("ticket_id"),
        "create_ticket": doc.get("create_ticket") is not None,
        "time_entry": bool(doc.get("time_entry")),
        "steps": {k: v for k, v in steps.items()},
        "attempt_count": doc.get("attempt_count", 0),
        "next_attempt_at": iso(next_ms) if next_ms is not None else None,
        "last_error": doc.get("last_error"),
        "created_at": doc.get("created_at"),
        "done_at": doc.get("done_at"),
        "attempts": doc.get("attempts", []),
    }


def _text(
    body: dict[str, Any], name: str, *, required: bool, limit: int = 200, where: str = ""
) -> str | None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadRequest(f"{name} is required: {where or WHERE['connectwise']}.")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadRequest(f"{name} must be text of at most {limit} characters.")
    return value.strip()


def _id(
    body: dict[str, Any], name: str, *, default: int | None = None, high: int = 2_147_483_647
) -> int | None:
    """A positive Autotask id (or picklist value); booleans are not numbers here."""
    value = body.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise BadRequest(f"{name} must be a whole number from 1 to {high}, the id Autotask shows for it.")
    return value


def _check_site(ctx: AppContext, url: str) -> str:
    try:
        resolve_target(url, allow_private=ctx.settings.webhook_allow_private)
    except TargetRefused as exc:
        raise BadRequest(
            f"site_url is refused: {exc} ConnectWise's site URL looks like https://na.myconnectwise.net."
        ) from None
    return url.rstrip("/")


def _connectwise_fields(ctx: AppContext, body: dict[str, Any]) -> dict[str, Any]:
    site = _check_site(ctx, _text(body, "site_url", required=True, limit=500) or "")
    fields: dict[str, Any] = {
        "site_url": site,
        "company_id": _text(body, "company_id", required=True),
        "public_key": _text(body, "public_key", required=True),
        "client_id": _text(body, "client_id", required=True),
    }
    for name in ("board", "status", "member", "work_type", "company"):
        fields[name] = _text(body, name, required=False)
    fields["note_type"] = body.get("note_type") or "internal"
    return fields


def _autotask_fields(body: dict[str, Any]) -> dict[str, Any]:
    where = WHERE["autotask"]
    return {
        "api_user": _text(body, "api_user", required=True, where=where),
        "integration_code": _text(
            body,
            "integration_code",
            required=True,
            where="the API user's API tracking identifier in Autotask",
        ),
        "company": _id(body, "company"),
        "queue_id": _id(body, "queue_id"),
        "ticket_status": _id(body, "ticket_status", default=1),
        "priority": _id(body, "priority", default=2),
        "due_hours": _id(body, "due_hours", default=24, high=24 * 365),
        "resource_id": _id(body, "resource_id"),
        "role_id": _id(body, "role_id"),
        "note_type_id": _id(body, "note_type_id", default=1),
        "note_publish": body.get("note_publish") or "internal",
    }


def save_config(
    ctx: AppContext, who: Principal, system: str, body: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Store the configuration; the secret is kept when left out. Answers the public
    configuration and the names of the fields that changed (for the audit log)."""
    check_system(system)
    db = repo.ensure_db(ctx.store, who.tenant_id)
    fields = _connectwise_fields(ctx, body) if system == "connectwise" else _autotask_fields(body)
    fields["note_format"] = body.get("note_format") or "text"
    fields["time_entry"] = bool(body.get("time_entry", True))
    fields["auto_push"] = bool(body.get("auto_push", False))
    secret_name = SECRET_FIELD[system]
    secret = _text(body, secret_name, required=False, limit=500)
    names = CONFIG_FIELDS[system]

    def write() -> tuple[dict[str, Any], list[str], bool]:
        current = repo.config(db, system)
        if secret is None and not (current or {}).get(f"{secret_name}_sealed"):
            raise BadRequest(f"{secret_name} is required the first time; afterwards leave it out to keep it.")
        doc = dict(current or {"_id": repo.config_id(system), "type": "psa_config", "system": system})
        doc["schema_version"] = repo.SCHEMA_VERSION
        changed = [k for k in names if (current or {}).get(k) != fields[k]]
        doc.update(fields)
        if secret is not None:
            doc[f"{secret_name}_sealed"] = seal(
                ctx.secret, SEAL_PURPOSE, seal_binding(who.tenant_id, system), secret
            )
            changed.append(secret_name)
        doc.update(updated_at=iso(), updated_by=who.user_id)
        save(db, doc)
        started = fields["auto_push"] and not (current or {}).get("auto_push")
        return doc, changed, started

    doc, changed, started = retry_on_conflict(
        write, busy="The configuration changed at the same moment; save again."
    )
    if started:
        start_feed_at_present(ctx, who.tenant_id, db, system)
    return public_config(doc) or {}, changed


def start_feed_at_present(ctx: AppContext, tenant_id: str, db: Database, system: str) -> None:
    """`system`'s auto-push follows the sessions feed from now: turning it on never pushes
    history (and never moves another PSA's place in the feed)."""
    try:
        since = ctx.store.db(physical_name(tenant_id, "sessions")).update_seq
    except NotFound:
        since = 0

    def write() -> None:
        doc = get_or_none(db, repo.feed_id(system)) or {
            "_id": repo.feed_id(system),
            "type": "psa_feed",
            "schema_version": repo.SCHEMA_VERSION,
        }
        doc["since"] = since
        save(db, doc)

    retry_on_conflict(write, busy="The auto-push checkpoint kept changing; save again.")


VENDOR_NAMES = {"connectwise": "ConnectWise", "autotask": "Autotask"}
TICKET_NUMBER_EXAMPLES = {"connectwise": "digits, e.g. 48213", "autotask": "e.g. T20261203.0042"}


def configured(ctx: AppContext, tenant_id: str) -> list[dict[str, str]]:
    db = repo.open_db(ctx.store, tenant_id)
    return [{"system": s, "name": VENDOR_NAMES[s]} for s in repo.SYSTEMS if repo.config(db, s) is not None]


def overview(ctx: AppContext, tenant_id: str) -> list[dict[str, Any]]:
    db = repo.open_db(ctx.store, tenant_id)
    items = []
    for system in repo.SYSTEMS:
        cfg = repo.config(db, system)
        status = repo.status(db, system)
        pushes = repo.pushes(db, system)
        items.append(
            {
                "system": system,
                "configured": cfg is not None,
                "config": public_config(cfg),
                "last_success": status.get("last_success"),
                "last_error": status.get("last_error"),
                "last_check": status.get("last_check"),
                "zone": (status.get("zone") or None) if system == "autotask" else None,
                "queued": [public_push(p) for p in pushes if p.get("status") in QUEUED],
                "failed": [public_push(p) for p in pushes if p.get("status") == "failed"],
            }
        )
    return items


def new_push(
    system: str,
    sid: str,
    requested_by: dict[str, Any],
    *,
    create_ticket: dict[str, Any] | None,
    ticket_id: int | None,
    time_entry: bool,
    ticket_number: str | None = None,
) -> dict[str, Any]:
    now = now_ms()
    return {
        "_id": repo.push_id(system, sid),
        "type": "psa_push",
        "schema_version": repo.SCHEMA_VERSION,
        "system": system,
        "session_id": sid,
        "requested_by": requested_by,
        "create_ticket": create_ticket,
        "ticket_id": ticket_id,
        "ticket_number": ticket_number,
        "time_entry": time_entry,
        "status": "pending",
        "attempt_count": 0,
        "next_attempt_ms": now,
        "claim": None,
        "last_error": None,
        "steps": {},
        "attempts": [],
        "created_at": iso(now),
    }


def enqueue(ctx: AppContext, tenant_id: str, push: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Queue `push`; an existing push of the session answers instead (queued: as it is;
    failed: due again now). The push, and whether this call queued it."""
    db = repo.ensure_db(ctx.store, tenant_id)
    try:
        return save(db, dict(push)), True
    except Conflict:
        pass

    def again() -> tuple[dict[str, Any], bool]:
        current = get_or_none(db, push["_id"])
        if current is None:
            return save(db, dict(push)), True
        if current["status"] == "failed":
            current.update(status="pending", next_attempt_ms=now_ms(), attempt_count=0, manual=True)
            return save(db, current), True
        return current, False  # queued, sending or done: as it is

    found, queued = retry_on_conflict(again, busy="The push changed at the same moment; try again.")
    if found["status"] == "done":
        ticket = (found.get("steps", {}).get("ticket") or {}).get("ticket_id")
        raise Conflict(
            f"This session was pushed to {found['system']} ticket #{ticket} already; nothing was sent again."
        )
    return found, queued


def retry(ctx: AppContext, tenant_id: str, system: str, sid: str) -> dict[str, Any]:
    """Make a failed (or waiting) push due now."""
    check_system(system)
    db = repo.open_db(ctx.store, tenant_id)
    if db is None or get_or_none(db, repo.push_id(system, sid)) is None:
        raise NotFound(f"No {system} push for session {sid}.")
    found = db

    def write() -> dict[str, Any]:
        current = found.get(repo.push_id(system, sid))
        if current["status"] in ("done", "sending"):
            return current
        current.update(status="pending", next_attempt_ms=now_ms(), attempt_count=0, manual=True)
        return save(found, current)

    out = retry_on_conflict(write, busy="The push changed at the same moment; try again.")
    if out["status"] == "sending":
        raise Conflict("The push is being sent right now; its result shows in a moment.")
    return public_push(out)


class PsaUnreachable(BranchlineError):
    """The PSA refused or failed the connection test; the reason is the connector's."""

    status, error = 502, "bad_gateway"


@contextmanager
def _connector(ctx: AppContext, tenant_id: str, system: str, cfg: dict[str, Any]) -> Iterator[Connector]:
    """The tenant's connector for a call made while a request waits (the worker's HTTP client
    and resolver when it runs, else a client of its own, closed afterwards)."""
    from ..webhooks import delivery  # noqa: PLC0415
    from ..webhooks.ssrf import system_resolver  # noqa: PLC0415
    from . import connectors  # noqa: PLC0415  (connectors imports this module)

    worker = ctx.psa
    client = worker.client if worker is not None else delivery.new_client(ctx.settings.psa_timeout_seconds, 1)
    resolver = worker.resolver if worker is not None else system_resolver
    try:
        yield connectors.build(ctx, tenant_id, system, cfg, client=client, resolver=resolver)
    finally:
        if worker is None:
            client.close()


def test_connection(ctx: AppContext, tenant_id: str, system: str) -> dict[str, Any]:
    """Check the stored configuration against the PSA now (for Autotask: a fresh zone
    discovery, then a cheap authenticated call). The result is kept in the connector's status
    (`last_check`; a failure is also its `last_error`), so the dashboard shows it."""
    from ..core.sealing import SealBroken  # noqa: PLC0415
    from .connector import PsaError  # noqa: PLC0415

    check_system(system)
    db = repo.open_db(ctx.store, tenant_id)
    cfg = repo.config(db, system)
    if db is None or cfg is None:
        raise Conflict(f"{system} is not configured; save its connection first, then test it.")
    try:
        with _connector(ctx, tenant_id, system, cfg) as connector:
            found = connector.check()
        outcome: dict[str, Any] = {"at": iso(), "ok": True, "reason": None, **found}
    except (PsaError, SealBroken) as exc:
        outcome = {"at": iso(), "ok": False, "reason": str(exc)}

    def write() -> None:
        doc = repo.status(db, system)
        doc["last_check"] = outcome
        if not outcome["ok"]:
            doc["last_error"] = {"at": outcome["at"], "session_id": None, "reason": outcome["reason"]}
        save(db, doc)

    retry_on_conflict(write, busy="The connector status kept changing; test again.")
    if not outcome["ok"]:
        raise PsaUnreachable(f"The connection test failed: {outcome['reason']}")
    return {"system": system, **outcome}


def lookup_ticket(ctx: AppContext, who: Principal, system: str, ticket: str) -> dict[str, Any]:
    """A ticket's summary and status, read from the PSA now: what a page opened from a ticket
    (a pod, an insight) suggests a tree from when its link carries only the ticket's number.
    `ticket` is ConnectWise's number ("48213", "#48213") or Autotask's ("T20261203.0042")."""
    from ..core.sealing import SealBroken  # noqa: PLC0415
    from .connector import PsaError  # noqa: PLC0415

    check_system(system)
    tenant_id = who.tenant_id
    text = ticket.strip()
    if not text or len(text) > 64:
        raise BadRequest("Give the ticket's number, as the PSA shows it (e.g. 48213 or T20261203.0042).")
    db = repo.open_db(ctx.store, tenant_id)
    cfg = repo.config(db, system)
    if cfg is None:
        raise Conflict(f"{system} is not configured; an owner or admin sets it up under Integrations.")
    try:
        with _connector(ctx, tenant_id, system, cfg) as connector:
            if not connector.is_ticket_number(text):
                raise BadRequest(
                    f"{text!r} is not a {VENDOR_NAMES[system]} ticket number "
                    f"({TICKET_NUMBER_EXAMPLES[system]})."
                )
            ticket_id = connector.ticket_by_number(text)
            if ticket_id is None:
                raise NotFound(f"{VENDOR_NAMES[system]} has no ticket {text!r}; check the number.")
            info = connector.get_ticket(ticket_id)
    except PsaError as exc:
        if exc.kind == "not_found":
            raise NotFound(f"{VENDOR_NAMES[system]} has no ticket {text!r}; check the number.") from None
        # The connector's own words may name its configuration (the API user, the site): those
        # are for admins; anyone else learns it failed and whom to ask.
        detail = f": {exc}" if who.is_admin else "; try again, or ask an admin to test the connection"
        raise PsaUnreachable(
            f"{VENDOR_NAMES[system]} could not be asked about ticket {text!r}{detail}."
        ) from None
    except SealBroken:
        raise PsaUnreachable(
            f"The {VENDOR_NAMES[system]} connection cannot be used; ask an admin to save it again."
        ) from None
    return {
        "system": system,
        "ticket": text,
        "ticket_id": info.ticket_id,
        "summary": info.summary,
        "status": info.status,
        "url": info.url,
    }
