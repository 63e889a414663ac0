"""A finished run into its session: the full output as an attachment (a text file, stored like
any other, so it syncs to devices) and a `script_run` event under the run's step.

Both ids derive from the run, so recording again after a crash writes nothing twice: the
attachment answers as already stored, the event's id exists.
"""

from __future__ import annotations

import logging
from typing import Any

from sync.access import Principal
from sync.errors import BranchlineError, Conflict, NotFound

from ..attachments import service as attachments
from ..core.context import AppContext
from ..core.docs import save
from ..core.timeutil import now_ms
from ..sessions import repository as sessions_repo
from . import rules

log = logging.getLogger("branchline.rmm")
DEVICE_ID = "rmm"


def _principal(tenant_id: str, run: dict[str, Any]) -> Principal:
    """The server acting for the engineer who asked for the run (checked when they asked)."""
    return Principal(tenant_id=tenant_id, user_id=run["requested_by"]["id"], role="owner", kind="user")


def _file(run: dict[str, Any], text: str, error: str | None) -> bytes:
    head = [
        f"Script: {run['script_name']} ({run['script_id']} v{run['script_version']})",
        f"Target: {run['target'].get('device_name') or run['target']['device_id']} via {run['system']}",
        f"Result: {run['result']}"
        + (f", exit code {run['exit_code']}" if run.get("exit_code") is not None else ""),
    ]
    if error:
        head.append(f"Note: {error}")
    return ("\n".join(head) + "\n\n" + (text or "(no output)") + "\n").encode()


def record_result(
    ctx: AppContext, tenant_id: str, run: dict[str, Any], text: str, error: str | None
) -> dict[str, Any]:
    """Write the attachment and the event; their ids (None where the session is gone)."""
    who = _principal(tenant_id, run)
    sid, node = run["session_id"], run["node_id"]
    attachment_id: str | None = f"rmm-{run['run_id']}"
    try:
        attachments.upload(
            ctx,
            who,
            sid,
            _file(run, text, error),
            name=f"script-output-{run['run_id']}.txt",
            node_id=node,
            attachment_id=attachment_id,
            caption=f"Output of {run['script_name']}",
            record_event=True,
            device_id=DEVICE_ID,
        )
    except NotFound:
        log.warning("rmm: session %s is gone; run %s is not recorded in it", sid, run["run_id"])
        return {"attachment_id": None, "event_id": None}
    except BranchlineError as exc:
        # The tenant's attachment rules refused the file (its size limit, its content): the
        # event still records the run, with the output's end and why the file is missing.
        log.warning("rmm: the output of run %s was not attached: %s", run["run_id"], exc)
        attachment_id = None
        error = f"{error + ' ' if error else ''}The full output was not attached: {exc}"
    event = {
        "_id": sessions_repo.event_id(sid, run["run_id"]),
        "type": "script_run",
        "schema_version": 1,
        "session_id": sid,
        "ts": now_ms(),
        "device_id": DEVICE_ID,
        "user_id": run["requested_by"]["id"],
        "node_id": node,
        "run_id": run["run_id"],
        "script_id": run["script_id"],
        "script_name": run["script_name"],
        "parameters": run["parameters"],
        "target": {k: v for k, v in run["target"].items() if v is not None} | {"system": run["system"]},
        "status": run["result"],
        "exit_code": run.get("exit_code"),
        "output": rules.excerpt(
            f"{text}\n{error}" if text and error and attachment_id is None else text or error or ""
        ),
        "attachment_id": attachment_id,
    }
    try:
        save(sessions_repo.sessions_db(ctx, tenant_id), {k: v for k, v in event.items() if v is not None})
    except Conflict:
        pass  # recorded by an earlier attempt
    return {"attachment_id": attachment_id, "event_id": event["_id"]}
