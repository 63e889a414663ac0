"""One push of one session to a PSA, step by step, each step recorded before the next.

The steps are: the ticket (attach to the number given or to the session's ticket field, an
id or a number the PSA looks up; or find the ticket an unrecorded earlier attempt made by
the Branchline marker in its summary; or create one), the note (the
session's text or Markdown export, byte for byte; skipped when the ticket already has that
exact note), the time entry (from the session's start and duration; skipped when one with
the session's marker exists) and the header (the ticket's summary and status read back into
the session header's `psa`). A crash between a PSA call and its record is repaired by those
look-ups on the next attempt, so nothing is posted twice.

`after_failure` is the pure rule of what a failed attempt makes of the push.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sync.access import Principal
from sync.errors import Conflict

from ..audit.service import now_iso
from ..clients import repository as clients_repo
from ..core.context import AppContext
from ..core.docs import retry_on_conflict, save
from ..core.timeutil import iso
from ..exports import service as exports
from ..sessions import repository as sessions_repo
from ..users.repository import get_user
from .connector import Connector, NewTicket, TimeEntry

log = logging.getLogger("branchline.integrations")

ATTEMPTS_KEPT = 10
SYSTEM_USER = "system:psa"


class PushProblem(Exception):
    """The push cannot be made as asked (no company for a new ticket...); not retried."""


class HeaderBusy(Exception):
    """The session header kept changing while the ticket was written into it; the push is
    retried (its PSA steps are recorded, so only the header is written again)."""


def marker(sid: str) -> str:
    """Carried in a created ticket's summary and a time entry's notes: how a later attempt
    finds what an unrecorded one made."""
    return f"[Branchline {sid}]"


def after_failure(
    push: dict[str, Any],
    error: str,
    *,
    retryable: bool,
    retry_after: float | None,
    delays: tuple[float, ...],
    now: int,
) -> dict[str, Any]:
    """The push after a failed attempt (a new dict): due again after the schedule's delay,
    or Retry-After when longer; `failed` when the error will not pass by itself or the
    schedule is spent (a manual retry is one attempt)."""
    out = dict(push)
    out["claim"] = None
    out["last_error"] = error
    out["attempt_count"] = int(push.get("attempt_count", 0)) + 1
    out["attempts"] = [*push.get("attempts", []), {"at": iso(now), "ok": False, "error": error}][
        -ATTEMPTS_KEPT:
    ]
    manual = bool(out.pop("manual", False))
    retries_made = out["attempt_count"] - 1
    if not retryable or manual or retries_made >= len(delays):
        out.update(status="failed", next_attempt_ms=None, failed_at=iso(now))
        return out
    wait = max(delays[retries_made], retry_after or 0.0)
    out.update(status="pending", next_attempt_ms=now + int(wait * 1000))
    return out


def after_success(push: dict[str, Any], now: int) -> dict[str, Any]:
    out = dict(push)
    out.pop("manual", None)
    out["attempt_count"] = int(push.get("attempt_count", 0)) + 1
    out["attempts"] = [*push.get("attempts", []), {"at": iso(now), "ok": True, "error": None}][
        -ATTEMPTS_KEPT:
    ]
    out.update(status="done", claim=None, last_error=None, next_attempt_ms=None, done_at=iso(now))
    return out


def _system_principal(tenant_id: str) -> Principal:
    return Principal(tenant_id=tenant_id, user_id=SYSTEM_USER, role="owner", kind="user")


def _export(ctx: AppContext, tenant_id: str, sid: str, fmt: str) -> bytes:
    return exports.export_session(ctx, _system_principal(tenant_id), sid, fmt, {}).body


VENDOR = {"connectwise": "ConnectWise", "autotask": "Autotask"}


def _company(
    ctx: AppContext,
    tenant_id: str,
    system: str,
    cfg: dict[str, Any],
    push: dict[str, Any],
    header: dict[str, Any],
) -> str:
    """The company of a new ticket: asked for, else the client context's
    `{system}_company` value, else the connector's default."""
    asked = (push.get("create_ticket") or {}).get("company")
    if asked:
        return str(asked)
    client_id = header.get("client_id")
    if isinstance(client_id, str):
        client = clients_repo.get_client_or_none(clients_repo.clients_db(ctx, tenant_id), client_id)
        values = (client or {}).get("values") or {}
        if values.get(f"{system}_company"):
            return str(values[f"{system}_company"])
    if cfg.get("company"):
        return str(cfg["company"])
    raise PushProblem(
        f"A new ticket needs a {VENDOR.get(system, system)} company: give one when sending, or set a default "
        "company in Integrations, or give the session a ticket number to attach to."
    )


def note_internal(cfg: dict[str, Any]) -> bool:
    """Whether the note is for the team only: ConnectWise's internal analysis, Autotask's
    Internal Only; `discussion` and `all` publish it further."""
    return cfg.get("note_type") != "discussion" and cfg.get("note_publish") != "all"


def _summary(ctx: AppContext, tenant_id: str, header: dict[str, Any], push: dict[str, Any], sid: str) -> str:
    """The summary asked for, else the session's title, else its tree's title; with the marker."""
    base = (push.get("create_ticket") or {}).get("summary") or header.get("title")
    if not base:
        model, _ = exports.session_model(ctx, _system_principal(tenant_id), sid, {})
        base = model["tree"]["title"] or "Branchline session"
    base = str(base).strip()
    tag = marker(sid)
    return f"{base[: 100 - len(tag) - 1]} {tag}"


def perform(
    ctx: AppContext,
    tenant_id: str,
    cfg: dict[str, Any],
    push: dict[str, Any],
    connector: Connector,
    record: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """Run the steps not yet recorded; `record(push)` saves the push after each. Raises
    PsaError, PushProblem or NotFound (the session is gone); answers the push as recorded."""
    sid = push["session_id"]
    sessions = sessions_repo.sessions_db(ctx, tenant_id)
    header = sessions.get(f"session:{sid}")
    steps = dict(push.get("steps") or {})

    ticket_id = (steps.get("ticket") or {}).get("ticket_id")
    if ticket_id is None:
        ticket_id, created = _ticket(ctx, tenant_id, cfg, push, header, connector)
        steps["ticket"] = {"ticket_id": ticket_id, "created": created, "at": iso()}
        push = record({**push, "steps": steps})

    if "note" not in steps:
        text = _export(
            ctx, tenant_id, sid, "markdown" if cfg.get("note_format") == "markdown" else "text"
        ).decode()
        if not connector.has_note(ticket_id, text):
            connector.add_note(ticket_id, text, internal=note_internal(cfg))
        steps["note"] = {"at": iso()}
        push = record({**push, "steps": steps})

    if push.get("time_entry") and "time_entry" not in steps:
        times = _times(ctx, tenant_id, sid)
        tag = marker(sid)
        if times is not None and not connector.has_time_entry(ticket_id, tag):
            owner = get_user(ctx.system, tenant_id, str(header.get("owner_id") or ""))
            connector.add_time_entry(
                TimeEntry(
                    ticket_id,
                    times[0],
                    times[1],
                    f"{header.get('title') or 'Branchline session'} {tag}",
                    (owner or {}).get("email"),
                )
            )
        steps["time_entry"] = {"at": iso(), "skipped": times is None}
        push = record({**push, "steps": steps})

    info = connector.get_ticket(ticket_id)
    now = now_iso()  # milliseconds: the header merge orders psa values by these times
    write_header(
        ctx,
        tenant_id,
        sid,
        {
            "system": connector.system,
            "ticket_id": ticket_id,
            "ticket_url": info.url,
            "pushed_at": now,
            "checked_at": now,
            "summary": info.summary,
            "status": info.status,
        },
    )
    steps["header"] = {"at": iso()}
    return {**push, "steps": steps}


def _ticket(
    ctx: AppContext,
    tenant_id: str,
    cfg: dict[str, Any],
    push: dict[str, Any],
    header: dict[str, Any],
    connector: Connector,
) -> tuple[int, bool]:
    sid = push["session_id"]
    given = push.get("ticket_id")
    if given is None and push.get("ticket_number"):
        given = connector.ticket_by_number(str(push["ticket_number"]))
        if given is None:
            raise PushProblem(
                f"{VENDOR.get(connector.system, connector.system)} has no ticket numbered "
                f"{push['ticket_number']!r}: check the number, or send it to a new ticket."
            )
    elif given is None and push.get("create_ticket") is None:
        # The session's own ticket field, read as this PSA numbers its tickets (a bare number
        # is ConnectWise's; Autotask's look like T20261203.0042, never a bare id).
        field = header.get("ticket")
        if isinstance(field, str) and connector.is_ticket_number(field):
            given = connector.ticket_by_number(field)
    if given is not None:
        connector.get_ticket(int(given))  # a clear "no such ticket" now, not at the note
        return int(given), False
    found = connector.find_ticket(marker(sid))
    if found is not None:
        return found, False
    ticket = NewTicket(
        summary=_summary(ctx, tenant_id, header, push, sid),
        company=_company(ctx, tenant_id, connector.system, cfg, push, header),
        board=(push.get("create_ticket") or {}).get("board") or cfg.get("board"),
        status=cfg.get("status"),
    )
    return connector.create_ticket(ticket), True


def _times(ctx: AppContext, tenant_id: str, sid: str) -> tuple[str, str] | None:
    entry = json.loads(_export(ctx, tenant_id, sid, "connectwise"))["time_entry"]
    start, end = entry.get("timeStart"), entry.get("timeEnd")
    if not start or not end:
        return None
    if end <= start:  # PSAs refuse an entry that ends when it starts: a minute at least
        end = iso(int(_parse(start) + 60_000))
    return start, end


def _parse(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def write_header(ctx: AppContext, tenant_id: str, sid: str, psa: dict[str, Any]) -> None:
    """Set the header's `psa` (a server-written field, DOCUMENTS.md) on the winning revision."""
    db = sessions_repo.sessions_db(ctx, tenant_id)

    def write() -> None:
        header = db.get(f"session:{sid}")
        header["psa"] = psa
        save(db, header)

    try:
        retry_on_conflict(write, busy=f"The header of session {sid} kept changing.", backoff_s=0.05)
    except Conflict:
        raise HeaderBusy(
            f"The header of session {sid} kept changing while the ticket was written into it; "
            "the ticket is made and the header is written at the next attempt."
        ) from None


def refresh_ticket(ctx: AppContext, tenant_id: str, sid: str, connector: Connector) -> bool:
    """Read the pushed session's ticket again; write its summary and status into the header
    when either changed. Whether the header was written."""
    db = sessions_repo.sessions_db(ctx, tenant_id)
    psa = db.get(f"session:{sid}").get("psa")
    if not isinstance(psa, dict) or not isinstance(psa.get("ticket_id"), int):
        return False
    if psa.get("system") != connector.system:
        return False  # sent to the other PSA since: its own refresh reads that ticket
    info = connector.get_ticket(psa["ticket_id"])
    if (info.summary, info.status) == (psa.get("summary"), psa.get("status")):
        return False
    write_header(
        ctx, tenant_id, sid, {**psa, "summary": info.summary, "status": info.status, "checked_at": now_iso()}
    )
    return True
